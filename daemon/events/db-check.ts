import type Database from 'better-sqlite3';
import { FleetError } from '../errors.js';

/** Exit status of fleetd when its database is damaged: distinct, so a service manager can stop restarting it. */
export const DAMAGED_DATABASE_EXIT = 4;

/**
 * Checks a freshly opened database (`PRAGMA quick_check`) before anything reads or writes
 * it. A damaged file, or one that is not a SQLite database at all, becomes a FleetError
 * `database_damaged` naming the file and the ways out, instead of a crash deeper in
 * start-up that a service manager would repeat forever.
 */
export function checkDatabase(db: Database.Database, path: string): void {
  let problems: string[];
  try {
    const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
    problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  } catch (e) {
    const code = (e as { code?: string }).code;
    // A locked or busy database is not damage; let the caller's own handling speak.
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw e;
    problems = [(e as Error).message];
  }
  if (problems.length === 0) return;
  throw new FleetError(
    'database_damaged',
    [
      `the database ${path} is damaged (${problems.join('; ').slice(0, 300)}), so fleetd will not start on it.`,
      `Stop fleetd, then either move it aside (mv ${path} ${path}.damaged; fleetd starts a new, empty log),`,
      `restore it from a backup, or try to salvage its rows: sqlite3 ${path} .recover | sqlite3 ${path}.recovered && mv ${path}.recovered ${path}`,
      `(move ${path}-wal and ${path}-shm aside with it).`,
    ].join(' '),
    500,
  );
}
