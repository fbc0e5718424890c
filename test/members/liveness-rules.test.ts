import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../shared/backoff.js';
import { Liveness, type LinkFailure } from '../../daemon/members/liveness.js';

const refused: LinkFailure = { reason: 'connection refused', message: 'refused' };
const timeout: LinkFailure = { reason: 'connect timeout', message: 'timeout' };
const mismatch: LinkFailure = { reason: 'host key mismatch', message: 'changed' };

describe('liveness transitions', () => {
  it('reports each change once: retries while down and repeated ups say nothing', () => {
    const l = new Liveness({ state: 'unknown' });
    expect(l.up()?.to).toBe('online');
    expect(l.up()).toBeUndefined();
    expect(l.down(refused)).toMatchObject({ to: 'offline', from: 'online', failure: refused });
    expect(l.down(refused)).toBeUndefined();
    expect(l.down(timeout)).toBeUndefined(); // another transient reason is not news
    expect(l.lastError).toBe('timeout');
    expect(l.up()).toMatchObject({ to: 'online', from: 'offline' });
  });

  it('speaks again while offline only when the reason becomes one a person must fix', () => {
    const l = new Liveness({ state: 'online' });
    expect(l.down(refused)?.to).toBe('offline');
    const since = l.since;
    expect(l.down(mismatch)).toMatchObject({ to: 'offline', from: 'offline', failure: mismatch, since });
    expect(l.down(mismatch)).toBeUndefined();
  });

  it('continues from the state stored before a restart', () => {
    expect(new Liveness({ state: 'online' }).up()).toBeUndefined();
    expect(new Liveness({ state: 'offline', reason: 'connection refused' }).down(refused)).toBeUndefined();
    expect(new Liveness({ state: 'offline', reason: 'connection refused' }).up()?.to).toBe('online');
  });
});

describe('reconnect backoff', () => {
  const policy = { initialMs: 1000, maxMs: 30_000, jitter: 0.3 };
  it('doubles from the initial delay up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((a) => backoffDelay(a, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it('jitters downwards within the configured share, so members do not reconnect in lockstep', () => {
    expect(backoffDelay(3, policy, () => 1)).toBe(5600);
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
    expect(seen.size).toBeGreaterThan(10);
    for (const d of seen) expect(d >= 5600 && d <= 8000).toBe(true);
  });
});
