import type Database from 'better-sqlite3';

/** How a watch asked to be watched: inotify when the member has it (auto), or always one way. */
export type MethodChoice = 'auto' | 'inotify' | 'poll';

/** One watch as fleet.db keeps it. */
export interface WatchRecord {
  id: string;
  member: string;
  path: string;
  recursive: boolean;
  include: string[];
  exclude: string[];
  method: MethodChoice;
  createdAt: string;
  /** The member's hash of the last listing whose changes are all committed (poll skips an unchanged tree). */
  listingHash: string | null;
  /** When the entries were last brought up to date; null before the first snapshot. */
  snapshotAt: number | null;
}

interface Row {
  id: string;
  member: string;
  path: string;
  recursive: number;
  include: string | null;
  exclude: string | null;
  method: string;
  created_at: string;
  listing_hash: string | null;
  snapshot_at: number | null;
}

function toRecord(r: Row): WatchRecord {
  return {
    id: r.id,
    member: r.member,
    path: r.path,
    recursive: r.recursive === 1,
    include: r.include ? (JSON.parse(r.include) as string[]) : [],
    exclude: r.exclude ? (JSON.parse(r.exclude) as string[]) : [],
    method: r.method as MethodChoice,
    createdAt: r.created_at,
    listingHash: r.listing_hash,
    snapshotAt: r.snapshot_at,
  };
}

/**
 * Watches and, per watch, its last snapshot: one row per file (relative path → "type size
 * mtime"), so a change and its event commit together and a restart diffs against exactly
 * what was last reported.
 */
export class WatchStore {
  constructor(private readonly db: Database.Database) {}

  insert(w: Omit<WatchRecord, 'listingHash' | 'snapshotAt' | 'createdAt'>): WatchRecord {
    this.db
      .prepare('INSERT INTO watches (id, member, path, recursive, include, exclude, method, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(w.id, w.member, w.path, w.recursive ? 1 : 0, w.include.length ? JSON.stringify(w.include) : null, w.exclude.length ? JSON.stringify(w.exclude) : null, w.method, new Date().toISOString());
    return this.get(w.id)!;
  }

  get(id: string): WatchRecord | undefined {
    const r = this.db.prepare('SELECT * FROM watches WHERE id = ?').get(id) as Row | undefined;
    return r && toRecord(r);
  }

  list(member?: string): WatchRecord[] {
    const rows = (member ? this.db.prepare('SELECT * FROM watches WHERE member = ? ORDER BY created_at, id').all(member) : this.db.prepare('SELECT * FROM watches ORDER BY created_at, id').all()) as Row[];
    return rows.map(toRecord);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM watches').get() as { n: number }).n;
  }

  delete(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM watch_entries WHERE watch = ?').run(id);
      this.db.prepare('DELETE FROM watches WHERE id = ?').run(id);
    })();
  }

  /** The watch's last snapshot: relative path → signature. */
  entries(id: string): Map<string, string> {
    const rows = this.db.prepare('SELECT path, sig FROM watch_entries WHERE watch = ?').all(id) as { path: string; sig: string }[];
    return new Map(rows.map((r) => [r.path, r.sig]));
  }

  /** Sets (or, with sig null, removes) one entry; `db` may be the log's transaction. */
  static applyEntry(db: Database.Database, id: string, path: string, sig: string | null): void {
    if (sig === null) db.prepare('DELETE FROM watch_entries WHERE watch = ? AND path = ?').run(id, path);
    else db.prepare('INSERT INTO watch_entries (watch, path, sig) VALUES (?, ?, ?) ON CONFLICT(watch, path) DO UPDATE SET sig = excluded.sig').run(id, path, sig);
  }

  /** Whether the watch still exists (a change committed after unwatch_files is dropped). */
  static exists(db: Database.Database, id: string): boolean {
    return db.prepare('SELECT 1 FROM watches WHERE id = ?').get(id) !== undefined;
  }

  /** Replaces the whole snapshot (a baseline, or inotify's silent refresh). */
  replaceEntries(id: string, entries: Map<string, string>, hash: string | null): void {
    this.db.transaction(() => {
      if (!WatchStore.exists(this.db, id)) return;
      this.db.prepare('DELETE FROM watch_entries WHERE watch = ?').run(id);
      const ins = this.db.prepare('INSERT INTO watch_entries (watch, path, sig) VALUES (?, ?, ?)');
      for (const [p, s] of entries) ins.run(id, p, s);
      this.db.prepare('UPDATE watches SET listing_hash = ?, snapshot_at = ? WHERE id = ?').run(hash, Date.now(), id);
    })();
  }

  /** Records that every change of the listing with `hash` is committed. */
  markSynced(id: string, hash: string | null): void {
    this.db.prepare('UPDATE watches SET listing_hash = ?, snapshot_at = ? WHERE id = ?').run(hash, Date.now(), id);
  }
}
