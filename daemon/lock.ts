import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, truncateSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { writePrivateFile } from '../shared/home.js';
import { isProcessAlive, readServerInfo } from '../shared/discovery.js';
import { FleetError } from './errors.js';


/** Who holds the home, for the refusal message only: the lock itself is the SQLite file lock. */
interface OwnerInfo {
  pid: number;
  startedAt: string;
}

/**
 * One daemon per home, by a lock the kernel drops however the holder dies (kill -9 included),
 * so there is no stale lock to judge by pid and two daemons started together cannot both win.
 *
 * On Linux the lock is a listening Unix socket in the abstract namespace, named after the home's
 * real path: bind() is atomic, a second binder gets EADDRINUSE, and the name is gone the moment
 * its process is. (Abstract names belong to the network namespace: two daemons on one home from
 * different namespaces are not kept apart.) Elsewhere it is an exclusive SQLite lock on
 * `fleetd.lock`, taken in one attempt on one connection: measured here, retrying a busy
 * `BEGIN EXCLUSIVE` (on the same connection or a new one) let two of four racers both hold it
 * in about one trial of ten, while single attempts never did. The lock file is never removed.
 * The owner's pid sits in `fleetd.owner` only to name it in the refusal.
 */
export class HomeLock {
  private held: { release(): Promise<void> } | undefined;
  private readonly ownerPath: string;

  constructor(
    private readonly path: string,
    private readonly home: string,
  ) {
    this.ownerPath = join(dirname(path), 'fleetd.owner');
  }

  /** Takes the lock or throws `already_running` naming the owner. */
  async acquire(): Promise<void> {
    if (this.held) return;
    this.held = process.platform === 'linux' ? await this.bindAbstract() : this.lockSqlite();
    const info: OwnerInfo = { pid: process.pid, startedAt: new Date().toISOString() };
    writePrivateFile(this.ownerPath, `${JSON.stringify(info)}\n`);
  }

  /** Drops the lock (and the owner note) if this process holds it; resolves once another may take it. */
  async release(): Promise<void> {
    if (!this.held) return;
    try {
      if (this.owner()?.pid === process.pid) unlinkSync(this.ownerPath);
    } catch {
      /* already gone */
    }
    const held = this.held;
    this.held = undefined;
    await held.release();
  }

  /** Linux: bind the home's abstract socket name; EADDRINUSE means another process holds it. */
  private bindAbstract(): Promise<{ release(): Promise<void> }> {
    let home = this.home;
    try {
      home = realpathSync(this.home);
    } catch {
      /* not made yet: its name as given */
    }
    const name = `\0fleetd-home-${createHash('sha256').update(home).digest('hex').slice(0, 40)}`;
    const server = createServer((c) => c.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? this.alreadyRunning() : e));
      server.listen({ path: name, exclusive: true }, () => {
        server.unref(); // the lock must not keep a finished process alive
        resolve({ release: () => new Promise<void>((done) => server.close(() => done())) });
      });
    });
  }

  /** Elsewhere: an exclusive SQLite lock, one attempt on one connection (see above). */
  private lockSqlite(): { release(): Promise<void> } {
    const open = () => {
      const db = new Database(this.path, { timeout: 0 });
      try {
        db.pragma('locking_mode = EXCLUSIVE');
        db.exec('BEGIN EXCLUSIVE');
        return db;
      } catch (e) {
        db.close();
        throw e;
      }
    };
    let db: Database.Database;
    try {
      db = open();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'SQLITE_BUSY') throw this.alreadyRunning();
      if (code !== 'SQLITE_NOTADB') throw e;
      // A lock file from a fleetd before SQLite locks (JSON text): empty it in place (same
      // inode, so every contender still locks one file) and take it as a fresh database.
      truncateSync(this.path, 0);
      try {
        db = open();
      } catch (e2) {
        if ((e2 as { code?: string }).code === 'SQLITE_BUSY') throw this.alreadyRunning();
        throw e2;
      }
    }
    return {
      release: async () => {
        db.close();
      },
    };
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
