/**
 * Counts the channels open on one SSH connection. OpenSSH's MaxSessions (default 10) caps
 * them per connection; past our cap, work waits here instead of failing at the server.
 */
export class ChannelSlots {
  private used = 0;
  private waiting: { grant: () => void; fail: (e: Error) => void }[] = [];
  private closedWith: Error | undefined;
  private freed: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** Channels open (or being opened) now. */
  get inUse(): number {
    return this.used;
  }

  /** Callers waiting for a channel. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes a slot if one is free now. */
  tryAcquire(): boolean {
    if (this.closedWith || this.used >= this.capacity) return false;
    this.used++;
    return true;
  }

  /** Takes a slot, waiting for one when all are in use. */
  acquire(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((grant, fail) => this.waiting.push({ grant, fail }));
  }

  /** Takes a slot, waiting at most `ms`; false when none came free in time. */
  acquireWithin(ms: number): Promise<boolean> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(true);
        },
        fail: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, ms);
      this.waiting.push(waiter);
    });
  }

  /** Calls `fn` whenever a slot becomes free with nobody waiting (for users that only try). */
  onFree(fn: () => void): void {
    this.freed.push(fn);
  }

  /** Gives a slot back, handing it straight to the next waiter. */
  release(): void {
    const next = this.waiting.shift();
    if (next) {
      next.grant();
      return;
    }
    this.used = Math.max(0, this.used - 1);
    for (const fn of this.freed) fn();
  }

  /** The connection is gone: every waiter fails with `err`. */
  close(err: Error): void {
    this.closedWith = err;
    for (const w of this.waiting.splice(0)) w.fail(err);
  }
}
