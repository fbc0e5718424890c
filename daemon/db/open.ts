import Database from 'better-sqlite3';
import { checkDatabase } from '../events/db-check.js';
import { migrate } from './migrate.js';

/**
 * Opens fleet.db as its owner: WAL with an fsync per commit (synchronous=FULL, the event
 * log's durability), then brings the schema up to date. Every part gets its tables from
 * here; other connections (the MCP message store's) open after it and create nothing.
 */
export function openFleetDb(path: string): Database.Database {
  const db = new Database(path);
  try {
    // A damaged file is reported before the first write a pragma or a migration could make.
    checkDatabase(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    // better-sqlite3 asks for a 16 MB page cache; reads here are sequential scans that gain nothing from it.
    db.pragma('cache_size = -2000');
    migrate(db, path);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
