import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../daemon/db/migrate.js';
import { MIGRATIONS } from '../../daemon/db/migrations.js';
import { openFleetDb } from '../../daemon/db/open.js';
import { EventLog } from '../../daemon/events/event-log.js';
import { MemberRegistry } from '../../daemon/members/registry.js';

let dir: string;
let path: string;
const LATEST = MIGRATIONS.at(-1)!.version;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-db-'));
  path = join(dir, 'fleet.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

describe('fleet.db: one owner, versioned migrations', () => {
  it('numbers migrations 1, 2, 3... with no gap, so user_version says exactly what ran', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('gives a new file every table and the newest user_version', () => {
    const db = openFleetDb(path);
    try {
      expect(schemaVersion(db)).toBe(LATEST);
      expect(tables(db)).toEqual(['ci_deliveries', 'ci_states', 'ci_watches', 'credentials', 'events', 'mcp_messages', 'member_host_keys', 'members', 'meta', 'tasks', 'watch_entries', 'watches']);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    } finally {
      db.close();
    }
  });

  it('opens a home made before migrations existed (tables present, user_version 0) and keeps its rows', () => {
    // What the code before daemon/db left behind: each class had created its own table.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, topic TEXT NOT NULL, subject TEXT, session TEXT, body TEXT NOT NULL);
      CREATE INDEX events_ts ON events(ts_ms);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE members (name TEXT PRIMARY KEY COLLATE NOCASE, kind TEXT NOT NULL, host TEXT, port INTEGER, user TEXT, identity_file TEXT,
        use_agent INTEGER NOT NULL DEFAULT 0, description TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, state TEXT, state_reason TEXT, state_since TEXT);
    `);
    old.prepare("INSERT INTO events (ts_ms, topic, body) VALUES (1, 'old.one', '{\"ts\":\"1970-01-01T00:00:00.001Z\",\"topic\":\"old.one\",\"level\":\"info\",\"message\":\"kept\"}')").run();
    old.prepare("INSERT INTO members (name, kind, use_agent, created_at, updated_at) VALUES ('box', 'local', 0, 'x', 'x')").run();
    expect(schemaVersion(old)).toBe(0);
    old.close();

    const log = new EventLog(path);
    try {
      expect(schemaVersion(log.db)).toBe(LATEST);
      expect(tables(log.db)).toContain('mcp_messages');
      expect(tables(log.db)).toContain('member_host_keys');
      expect(log.read(0).map((e) => e.message)).toEqual(['kept']);
      expect(new MemberRegistry(log.db).names()).toEqual(['box']);
    } finally {
      log.close();
    }
  });

  it('refuses a file from a newer fleetd, naming the file and what to do', () => {
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST + 1}`);
    db.close();
    expect(() => openFleetDb(path)).toThrow(new RegExp(`fleet\\.db has schema version ${LATEST + 1}, newer than this fleetd knows \\(${LATEST}\\)`));
  });

  it('runs each migration in one transaction with its version: a failing step leaves the one before', () => {
    const db = new Database(path);
    try {
      const steps = [
        { version: 1, name: 'a', sql: 'CREATE TABLE a (x)' },
        { version: 2, name: 'b', sql: 'CREATE TABLE b (x); INSERT INTO nowhere VALUES (1)' },
      ];
      expect(() => migrate(db, path, steps)).toThrow(/schema migration 2 \(b\) failed: no such table: nowhere/);
      expect(schemaVersion(db)).toBe(1);
      expect(tables(db)).toEqual(['a']);
      // Fixed and run again, it picks up where it stopped.
      expect(migrate(db, path, [steps[0]!, { version: 2, name: 'b', sql: 'CREATE TABLE b (x)' }])).toBe(2);
    } finally {
      db.close();
    }
  });
});
