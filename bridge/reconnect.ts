/**
 * Exponential backoff with jitter for reconnecting to fleetd: 100 ms doubling to 5 s,
 * each pause drawn from [0.5, 1.5) of the step so many bridges that lost the same daemon
 * do not knock on the restarted one in lockstep. `wake()` cuts a pause short (a request
 * just found the daemon gone, or the bridge is closing).
 */
const URGENT_MS = 250;

export class Reconnect {
  private step: number;
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(
    private readonly firstMs = 100,
    private readonly maxMs = 5000,
  ) {
    this.step = firstMs;
  }

  /** The step the next pause is drawn around. */
  get nextDelayMs(): number {
    return this.step;
  }

  /**
   * Sleeps one backoff step (or until woken), then doubles the step. `urgent` (a request
   * is waiting for the daemon) caps the pause at a quarter second: a probe is one read of
   * server.json and one refused connect, while the request's wait is someone's time.
   */
  async pause(urgent = false): Promise<void> {
    const ms = (urgent ? Math.min(this.step, URGENT_MS) : this.step) * (0.5 + Math.random());
    this.step = Math.min(this.step * 2, this.maxMs);
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = undefined;
  }

  /** Ends the current pause now (or makes the next one return at once). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /** Back to the first step after a success. */
  reset(): void {
    this.step = this.firstMs;
  }
}
