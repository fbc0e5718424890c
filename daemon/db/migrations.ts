/** One step of fleet.db's schema; `version` is what `PRAGMA user_version` says once it ran. */
export interface Migration {
  version: number;
  /** What it adds, for the error when it fails. */
  name: string;
  sql: string;
}

/**
 * Every schema change of fleet.db, oldest first, numbered 1, 2, 3... and never edited once
 * released: a change is a new migration at the end. Homes made before migrations existed
 * have these tables but user_version 0, so migration 1 only creates what is missing.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'event log, members, member host keys, MCP session messages',
    sql: `
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms INTEGER NOT NULL,
        topic TEXT NOT NULL,
        subject TEXT,
        session TEXT,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ms);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      CREATE TABLE IF NOT EXISTS members (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        kind TEXT NOT NULL,
        host TEXT,
        port INTEGER,
        user TEXT,
        identity_file TEXT,
        use_agent INTEGER NOT NULL DEFAULT 0,
        description TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state TEXT,
        state_reason TEXT,
        state_since TEXT
      );
      CREATE TABLE IF NOT EXISTS member_host_keys (
        member TEXT PRIMARY KEY COLLATE NOCASE,
        key_b64 TEXT,
        key_type TEXT,
        trusted_at TEXT,
        offered_b64 TEXT,
        offered_type TEXT,
        offered_at TEXT
      );

      CREATE TABLE IF NOT EXISTS mcp_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session TEXT NOT NULL,
        stream TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS mcp_messages_session ON mcp_messages(session, stream, id);
    `,
  },
  {
    version: 2,
    name: 'credentials (metadata, encrypted values, TTL timer state)',
    sql: `
      CREATE TABLE credentials (
        name TEXT PRIMARY KEY,
        description TEXT,
        members TEXT,
        ttl_ms INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        stored_at TEXT,
        expires_at INTEGER,
        ciphertext BLOB,
        iv BLOB,
        tag BLOB,
        warned INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 3,
    name: 'background tasks',
    sql: `
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        member TEXT NOT NULL COLLATE NOCASE,
        kind TEXT NOT NULL,
        command TEXT NOT NULL,
        session TEXT,
        state TEXT NOT NULL,
        pid INTEGER,
        proc_start TEXT,
        exit_code INTEGER,
        reason TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        stall_after_ms INTEGER NOT NULL,
        stalled INTEGER NOT NULL DEFAULT 0,
        out_bytes INTEGER NOT NULL DEFAULT 0,
        progress_at INTEGER NOT NULL,
        result TEXT,
        forgotten INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX tasks_state ON tasks(state, member);
    `,
  },
  {
    version: 4,
    name: 'CI: watched repos, last known state per (repo, branch, workflow), seen webhook deliveries',
    sql: `
      CREATE TABLE ci_watches (
        repo TEXT NOT NULL COLLATE NOCASE,
        branch TEXT NOT NULL DEFAULT '',
        workflow TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (repo, branch, workflow)
      );
      CREATE TABLE ci_states (
        repo TEXT NOT NULL COLLATE NOCASE,
        branch TEXT NOT NULL,
        workflow TEXT NOT NULL,
        state TEXT NOT NULL,
        conclusion TEXT,
        sha TEXT,
        url TEXT,
        observed_ms INTEGER,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (repo, branch, workflow)
      );
      CREATE TABLE ci_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        received_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'members: SSH password and key passphrase by credential name',
    sql: `
      ALTER TABLE members ADD COLUMN password_credential TEXT;
      ALTER TABLE members ADD COLUMN passphrase_credential TEXT;
    `,
  },
  {
    version: 6,
    name: 'file watches and their last snapshots',
    sql: `
      CREATE TABLE watches (
        id TEXT PRIMARY KEY,
        member TEXT NOT NULL COLLATE NOCASE,
        path TEXT NOT NULL,
        recursive INTEGER NOT NULL,
        include TEXT,
        exclude TEXT,
        method TEXT NOT NULL,
        created_at TEXT NOT NULL,
        listing_hash TEXT,
        snapshot_at INTEGER
      );
      CREATE TABLE watch_entries (
        watch TEXT NOT NULL,
        path TEXT NOT NULL,
        sig TEXT NOT NULL,
        PRIMARY KEY (watch, path)
      ) WITHOUT ROWID;
    `,
  },
];
