/** How retry attempts are spaced: exponential growth from `initialMs`, capped at `maxMs`, with jitter. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is drawn from [d × (1 - jitter), d]. */
  jitter: number;
}

/**
 * Delay before retry `attempt` (0-based). The jitter keeps many clients that lost the same
 * peer (members the same network, bridges the same daemon) from retrying in lockstep.
 */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - p.jitter * random()));
}

export interface SleepOptions {
  /** Ends the sleep early (it resolves; it never rejects). */
  signal?: AbortSignal;
  /** Receives the function that ends this sleep early. */
  onWake?: (wake: () => void) => void;
}

/** Waits `ms`, or less when the signal aborts or the wake function is called. */
export function sleep(ms: number, opts: SleepOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    const { signal } = opts;
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done, { once: true });
    opts.onWake?.(done);
  });
}

/**
 * A retry loop's pauses: each one longer (see backoffDelay) until reset() after a success.
 * wake() cuts the current pause short, or makes the next one return at once when none is
 * running (something just told us the peer is back, or we are closing).
 */
export class Backoff {
  private attempt = 0;
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(
    readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The longest the next pause can be (its un-jittered step). */
  get nextDelayMs(): number {
    return Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** Math.min(this.attempt, 30));
  }

  /** Draws the next delay and counts the attempt. */
  nextDelay(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  /** Sleeps the next delay (at most `capMs` when given), or until woken or aborted. */
  async pause(opts: { capMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const ms = Math.min(this.nextDelay(), opts.capMs ?? Infinity);
    if (this.woken) {
      this.woken = false;
      return;
    }
    await sleep(ms, { signal: opts.signal, onWake: (wake) => (this.wakeUp = wake) });
    this.wakeUp = undefined;
  }

  /** Ends the current pause now (or makes the next one return at once). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /** Back to the first step after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
