/** How reconnect attempts are spaced: exponential growth, capped, with jitter. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is drawn from [d × (1 - jitter), d]. */
  jitter: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based). The jitter keeps many members that
 * lost the same network from reconnecting in lockstep.
 */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - p.jitter * random()));
}
