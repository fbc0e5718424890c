import { readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { writePrivateFile } from '../shared/home.js';
import { isProcessAlive, readServerInfo } from '../shared/discovery.js';
import { FleetError } from './errors.js';

/** How long a start-up retries a busy lock before it calls the home taken. */
const LOCK_RETRY_MS = 300;

/** Who holds the home, for the refusal message only: the lock itself is the SQLite file lock. */
interface OwnerInfo {
  pid: number;
  startedAt: string;
}

/**
 * One daemon per home. The lock is a write lock on an empty SQLite database (`fleetd.lock`),
 * taken with `locking_mode=EXCLUSIVE` and `BEGIN EXCLUSIVE` and held on an open connection for
 * the daemon's life. SQLite locks with POSIX fcntl locks, which the kernel drops when the
 * process dies however it dies (kill -9 included), and a second opener, in this process or
 * another, gets SQLITE_BUSY at once. So there is no stale lock to judge by pid, and two
 * daemons started together cannot both win. The lock file is never removed: unlinking it
 * would let a later opener lock a new file while an earlier one still holds the old inode.
 * The owner's pid sits in a separate file (`fleetd.owner`) only to name it in the refusal.
 */
export class HomeLock {
  private db: Database.Database | undefined;
  private readonly ownerPath: string;

  constructor(
    private readonly path: string,
    private readonly home: string,
  ) {
    this.ownerPath = join(dirname(path), 'fleetd.owner');
  }

  /** Takes the lock or throws `already_running` naming the owner. */
  acquire(): void {
    if (this.db) return;
    try {
      this.db = this.lock();
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_NOTADB') throw e;
      // A lock file from a fleetd before SQLite locks (JSON text): empty it in place (same
      // inode, so every contender still locks one file) and take it as a fresh database.
      truncateSync(this.path, 0);
      this.db = this.lock();
    }
    const info: OwnerInfo = { pid: process.pid, startedAt: new Date().toISOString() };
    writePrivateFile(this.ownerPath, `${JSON.stringify(info)}\n`);
  }

  /** Drops the lock (and the owner note) if this process holds it. */
  release(): void {
    if (!this.db) return;
    try {
      if (this.owner()?.pid === process.pid) unlinkSync(this.ownerPath);
    } catch {
      /* already gone */
    }
    this.db.close();
    this.db = undefined;
  }

  /**
   * SQLite climbs to an exclusive lock through a shared one, so starters that meet at one
   * instant can all see SQLITE_BUSY from each other's shared step: retry a few times with
   * jitter (a real holder keeps answering busy) before calling the home taken.
   */
  private lock(): Database.Database {
    const deadline = Date.now() + LOCK_RETRY_MS;
    for (;;) {
      const db = new Database(this.path, { timeout: 0 });
      try {
        db.pragma('locking_mode = EXCLUSIVE');
        db.exec('BEGIN EXCLUSIVE');
        return db;
      } catch (e) {
        db.close();
        if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
        if (Date.now() >= deadline) throw this.alreadyRunning();
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 20);
      }
    }
  }

  private alreadyRunning(): FleetError {
    // The note may be left by a holder killed -9 (the new one has not written its own yet).
    const noted = this.owner()?.pid;
    const pid = noted !== undefined && isProcessAlive(noted) ? noted : undefined;
    const server = readServerInfo(this.home);
    const url = server && server.pid === pid ? server.url : undefined;
    const who = pid === undefined ? ' (it is starting)' : ` (pid ${pid}${url ? `, ${url}` : ''})`;
    return new FleetError('already_running', `fleetd is already running on ${this.home}${who}; stop it first or use another --home`, 409);
  }

  private owner(): OwnerInfo | undefined {
    try {
      const info = JSON.parse(readFileSync(this.ownerPath, 'utf8')) as OwnerInfo;
      return Number.isInteger(info.pid) && info.pid > 0 ? info : undefined;
    } catch {
      return undefined;
    }
  }
}
