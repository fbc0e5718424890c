import type { Client } from 'ssh2';
import type { ChannelSlots } from './channel-slots.js';
import { runOnExecChannel } from './exec-channel.js';
import type { CommandSpec } from './framing.js';
import { CappedOutput } from './output-cap.js';
import { DriverClosedError, ShellDriver } from './shell-driver.js';
import type { OutputListener, RunOptions } from './runtime.js';
import { killTreeScript } from './tree-kill.js';

/** A finished foreground command, before it is turned into a tool result. */
export interface PooledRun {
  stdout: CappedOutput;
  stderr: CappedOutput;
  exitCode: number | null;
  /** Set when the command overran its time (or was cancelled) and was stopped. */
  stopped?: 'timeout' | 'cancelled';
}

export interface ShellPoolOptions {
  shellChannels: number;
  outputLimit: number;
  /** How long a new session may take to open and get through the user's shell start-up files. */
  openTimeoutMs: number;
  /** How long a stopped command gets between SIGTERM, SIGKILL and giving its channel up. */
  killGraceMs: number;
}

interface Job {
  spec: CommandSpec;
  /** When the command must be over, queueing included (performance.now() time). */
  deadline: number;
  signal?: AbortSignal;
  onOutput?: OutputListener;
  resolve: (r: PooledRun) => void;
  reject: (e: Error) => void;
  /** Clears the job's queue timer and abort listener. */
  unqueue: () => void;
}

/** No shell came free for a queued command before its time was up. */
export class QueueTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no shell channel came free within ${(waitedMs / 1000).toFixed(1)} s; the command did not run`);
    this.name = 'QueueTimeoutError';
  }
}

/**
 * The long-lived shell drivers of one SSH connection and the queue in front of them. Drivers
 * open on demand up to `shellChannels` (below sshd's MaxSessions); beyond that, commands
 * wait for a driver to come free, which for short commands is far sooner than a new
 * session would open.
 */
export class ShellPool {
  private readonly drivers = new Set<ShellDriver>();
  private readonly idle: ShellDriver[] = [];
  private readonly queue: Job[] = [];
  private opening = 0;
  private closedWith: Error | undefined;

  constructor(
    private readonly client: Client,
    private readonly slots: ChannelSlots,
    private readonly opts: ShellPoolOptions,
  ) {
    // Opening a driver only tries for a slot; when every slot was held by other channels
    // (own-channel commands, SFTP) and no driver exists, a freed slot must restart the queue.
    slots.onFree(() => {
      if (this.drivers.size === 0 && this.opening === 0 && this.queue.length > 0) this.pump();
    });
  }

  /** Opens the first driver ahead of need, so the first command does not pay for the session. */
  warm(): void {
    if (this.drivers.size + this.opening === 0) void this.openDriver();
  }

  /** Drivers open, busy and queued commands: for member_detail. */
  stats(): { shells: number; busy: number; queued: number } {
    return { shells: this.drivers.size, busy: this.drivers.size - this.idle.length, queued: this.queue.length };
  }

  /** Runs a command on a free driver (queued when all are busy); its timeout covers the wait too. */
  run(spec: CommandSpec, opts: RunOptions): Promise<PooledRun> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const leave = () => {
        const at = this.queue.indexOf(job);
        if (at >= 0) this.queue.splice(at, 1);
        return at >= 0;
      };
      // Cancelled while still queued: leave the queue without running.
      const onAbort = () => {
        if (leave()) {
          job.unqueue();
          resolve({ stdout: new CappedOutput(0), stderr: new CappedOutput(0), exitCode: null, stopped: 'cancelled' });
        }
      };
      const timer = setTimeout(() => {
        if (leave()) {
          job.unqueue();
          reject(new QueueTimeoutError(opts.timeoutMs));
        }
      }, opts.timeoutMs);
      const job: Job = {
        spec,
        deadline: performance.now() + opts.timeoutMs,
        signal: opts.signal,
        onOutput: opts.onOutput,
        resolve,
        reject,
        unqueue: () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** The connection is gone: fail queued work and forget the drivers. */
  close(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const job of this.queue.splice(0)) {
      job.unqueue();
      job.reject(err);
    }
    for (const d of this.drivers) d.destroy();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const driver = this.idle.pop()!;
      if (driver.closed) continue;
      void this.execute(driver, this.queue.shift()!);
    }
    // Open drivers for the queue in parallel (each costs a session set-up), up to the cap.
    while (this.queue.length > this.opening && this.drivers.size + this.opening < this.opts.shellChannels) {
      if (!this.openDriver()) break;
    }
  }

  /** Starts opening a driver; false when no channel slot is free. */
  private openDriver(): boolean {
    if (this.closedWith || !this.slots.tryAcquire()) return false;
    this.opening++;
    ShellDriver.open(this.client, this.opts.openTimeoutMs, this.opts.killGraceMs).then(
      (driver) => {
        this.opening--;
        if (this.closedWith) {
          driver.destroy();
          this.slots.release();
          return;
        }
        this.drivers.add(driver);
        driver.onClosed(() => {
          this.drivers.delete(driver);
          const at = this.idle.indexOf(driver);
          if (at >= 0) this.idle.splice(at, 1);
          this.slots.release();
        });
        this.idle.push(driver);
        this.pump();
      },
      (e: Error) => {
        this.opening--;
        // With no driver at all nothing would ever serve the queue: fail it with the reason
        // (before the slot goes back, so its release does not start another doomed attempt).
        if (this.drivers.size === 0 && this.opening === 0 && !this.closedWith) {
          const err = new Error(`cannot open a shell channel on the member: ${e.message}`);
          for (const job of this.queue.splice(0)) {
            job.unqueue();
            job.reject(err);
          }
        }
        this.slots.release();
      },
    );
    return true;
  }

  /** Runs one job on a driver, stopping it when it overruns or is cancelled. */
  private async execute(driver: ShellDriver, job: Job): Promise<void> {
    job.unqueue();
    const stdout = new CappedOutput(this.opts.outputLimit, job.onOutput && ((c, h) => job.onOutput!('stdout', c, h)));
    const stderr = new CappedOutput(this.opts.outputLimit, job.onOutput && ((c, h) => job.onOutput!('stderr', c, h)));
    let stopped: PooledRun['stopped'];
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stopped) return;
      stopped = why;
      void this.stopCommand(driver, run);
    };
    const run = driver.run(job.spec, stdout, stderr);
    const timer = setTimeout(() => stop('timeout'), Math.max(0, job.deadline - performance.now()));
    const onAbort = () => stop('cancelled');
    job.signal?.addEventListener('abort', onAbort, { once: true });
    if (job.signal?.aborted) onAbort();
    let clean = false;
    try {
      const r = await run;
      clean = r.clean;
      job.resolve({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, ...(stopped ? { stopped } : {}) });
    } catch (e) {
      if (e instanceof DriverClosedError && stopped) job.resolve({ stdout, stderr, exitCode: null, stopped });
      else job.reject(e as Error);
    } finally {
      clearTimeout(timer);
      job.signal?.removeEventListener('abort', onAbort);
      // A shell whose last command may have left something able to write into it is
      // retired (its channel closes): the next command gets a fresh one.
      if (!driver.closed && clean) this.idle.push(driver);
      else if (!driver.closed) driver.destroy();
      this.pump();
    }
  }

  /**
   * Stops a running command: SIGTERM to its process tree, then SIGKILL, and if the end
   * marker still does not come, gives up the driver (its channel closes; a new one opens
   * for the next command).
   */
  private async stopCommand(driver: ShellDriver, run: Promise<unknown>): Promise<void> {
    const finished = run.then(
      () => true,
      () => true,
    );
    // Every step is bounded: a member too sick to run `kill` loses the driver instead of hanging us.
    const within = (ms: number, work: Promise<unknown> = finished) =>
      Promise.race([work.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    const grace = this.opts.killGraceMs;
    for (const signal of ['TERM', 'KILL'] as const) {
      if (driver.closed) return;
      await within(grace + this.opts.openTimeoutMs, runOnExecChannel(this.client, this.slots, killTreeScript(driver.pid, signal), { outputLimit: 4096, timeoutMs: grace }).catch(() => undefined));
      if (await within(grace)) return;
    }
    driver.destroy();
  }
}
