import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, sleep } from '../../shared/backoff.js';

describe('one backoff for members, bridge and client', () => {
  it('doubles from the first step to the cap, each delay jittered down by at most `jitter`', () => {
    const p = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 50].map((a) => backoffDelay(a, p, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2, p, () => 1)).toBe(200);
    const b = new Backoff(p, () => 0);
    expect([b.nextDelay(), b.nextDelay(), b.nextDelay()]).toEqual([100, 200, 400]);
    expect(b.nextDelayMs).toBe(800);
    b.reset();
    expect(b.nextDelay()).toBe(100);
  });

  it('wake() ends a running pause at once, and a wake with no pause running makes the next one return at once', async () => {
    const b = new Backoff({ initialMs: 60_000, maxMs: 60_000, jitter: 0 });
    const started = performance.now();
    const paused = b.pause();
    b.wake();
    await paused;
    b.wake();
    await b.pause();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('caps a pause at capMs, and an abort signal ends a sleep early without rejecting', async () => {
    const b = new Backoff({ initialMs: 60_000, maxMs: 60_000, jitter: 0 });
    const started = performance.now();
    await b.pause({ capMs: 20 });
    const ac = new AbortController();
    const s = sleep(60_000, { signal: ac.signal });
    ac.abort();
    await s;
    await sleep(60_000, { signal: AbortSignal.abort() });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
