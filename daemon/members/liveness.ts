import type { StoredLiveness } from './registry.js';

/** Why a member is offline, in words the user can act on. */
export const OFFLINE_REASONS = [
  'keepalive timeout',
  'connection refused',
  'connection lost',
  'auth failed',
  'host key mismatch',
  'bad identity',
  'missing credential',
  'unreachable',
  'connect timeout',
  'error',
] as const;
export type OfflineReason = (typeof OFFLINE_REASONS)[number];

/** Reasons only a person can fix: worth a new event even when the member was already offline. */
export const NEEDS_ATTENTION: ReadonlySet<OfflineReason> = new Set(['auth failed', 'host key mismatch', 'bad identity', 'missing credential']);

/** A failed or lost connection, classified. */
export interface LinkFailure {
  reason: OfflineReason;
  message: string;
  data?: Record<string, unknown>;
}

/** A change worth one event. */
export type Transition =
  | { to: 'online'; from: StoredLiveness['state']; since: string }
  | { to: 'offline'; from: StoredLiveness['state']; since: string; failure: LinkFailure };

/**
 * A member's reported liveness. It only says something when the state really changes
 * (online <-> offline), or when an offline member's reason becomes one a person must fix,
 * so retries while down and a reconnect that succeeds at once produce no events.
 */
export class Liveness {
  state: StoredLiveness['state'];
  reason: OfflineReason | undefined;
  since: string | undefined;
  lastError: string | undefined;
  lastOnlineAt: string | undefined;

  constructor(stored: StoredLiveness) {
    this.state = stored.state === 'connecting' ? 'unknown' : stored.state;
    this.reason = stored.reason as OfflineReason | undefined;
    this.since = stored.since;
  }

  /** The connection is up. */
  up(now = new Date()): Transition | undefined {
    this.lastOnlineAt = now.toISOString();
    if (this.state === 'online') return undefined;
    const from = this.state;
    this.state = 'online';
    this.reason = undefined;
    this.since = now.toISOString();
    return { to: 'online', from, since: this.since };
  }

  /** A connection attempt failed or the connection was lost. */
  down(failure: LinkFailure, now = new Date()): Transition | undefined {
    this.lastError = failure.message;
    const from = this.state;
    if (from === 'offline' && (failure.reason === this.reason || !NEEDS_ATTENTION.has(failure.reason))) return undefined;
    this.state = 'offline';
    this.reason = failure.reason;
    if (from !== 'offline') this.since = now.toISOString();
    return { to: 'offline', from, since: this.since ?? now.toISOString(), failure };
  }

  /** What to persist. */
  stored(): StoredLiveness {
    return { state: this.state, ...(this.reason ? { reason: this.reason } : {}), ...(this.since ? { since: this.since } : {}) };
  }
}
