import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { isProcessAlive, readServerInfo } from '../shared/discovery.js';
import { FleetError } from './errors.js';

/**
 * One daemon per home: an exclusive-create lock file holding the owner's pid. A lock left
 * by a process that no longer exists (kill -9) is taken over.
 */
export class HomeLock {
  private held = false;

  constructor(
    private readonly path: string,
    private readonly home: string,
  ) {}

  /** Takes the lock or throws `already_running` naming the owner. */
  acquire(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
        closeSync(fd);
        this.held = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = this.ownerPid();
      if (owner !== undefined && owner !== process.pid && isProcessAlive(owner)) {
        const url = readServerInfo(this.home)?.url;
        throw new FleetError(
          'already_running',
          `fleetd is already running on ${this.home} (pid ${owner}${url ? `, ${url}` : ''}); stop it first or use another --home`,
          409,
        );
      }
      try {
        unlinkSync(this.path); // stale: its owner is gone
      } catch {
        /* someone else took it over first; try again */
      }
    }
    throw new FleetError('lock_failed', `could not take the lock ${this.path}`, 500);
  }

  /** Removes the lock if this process holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (this.ownerPid() === process.pid) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }

  private ownerPid(): number | undefined {
    try {
      const pid = Number((JSON.parse(readFileSync(this.path, 'utf8')) as { pid: unknown }).pid);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}
