import { BridgeError, RPC } from './errors.js';
import type { Log } from './log.js';

/** One MCP session on fleetd, as the bridge tracks it. */
export interface Session {
  id: string;
  protocolVersion: string;
  /** Bumped by every replacement: tells old-session answers from current ones. */
  generation: number;
  /** fleetd no longer knows it (404, or a restart): it must be replaced. */
  lost: boolean;
}

type State = 'idle' | 'ready' | 'away' | 'closed';

/**
 * The gate requests pass through to reach fleetd: open while the current session is
 * usable, shut (requests wait, bounded) while the daemon is away or the session is being
 * replaced. Whoever notices trouble reports it here; `onTrouble` wakes the supervisor.
 */
export class SessionGate {
  private state: State = 'idle';
  private current: Session | undefined;
  private waiters: (() => void)[] = [];
  /** Why the daemon is unusable, for the error a timed-out request gets. */
  lastFailure = 'fleetd has not answered yet';

  constructor(
    private readonly log: Log,
    private readonly onTrouble: () => void,
    /** Appended to a timeout error: how to start fleetd. */
    private readonly hint: string,
  ) {}

  get session(): Session | undefined {
    return this.current;
  }

  /** True once a session was opened (the client's initialize succeeded). */
  get started(): boolean {
    return this.state !== 'idle';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Requests are waiting for the gate to open. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Makes `session` the current one, usable now. */
  adopt(session: Session): void {
    this.current = session;
    this.open(session);
  }

  /** The session's daemon answered again: let requests through. */
  open(session: Session): void {
    if (this.state === 'closed' || this.current !== session || session.lost) return;
    if (this.state !== 'ready') this.log.debug(`connected to fleetd (session ${session.id})`);
    this.state = 'ready';
    this.wakeWaiters();
  }

  /** The daemon stopped answering: requests wait while the supervisor probes. */
  away(session: Session, why: string): void {
    this.lastFailure = why;
    if (this.current !== session || this.state !== 'ready') return;
    this.state = 'away';
    this.log.debug(`lost fleetd (${why})`);
    this.onTrouble();
  }

  /** The daemon no longer knows the session: the supervisor replaces it. */
  lost(session: Session, why: string): void {
    if (session.lost) return;
    session.lost = true;
    this.lastFailure = why;
    if (this.current === session && this.state !== 'closed') this.state = 'away';
    this.log.debug(`session ${session.id} lost (${why})`);
    this.onTrouble();
  }

  /** Shuts the gate for good; waiting requests fail. */
  close(): void {
    this.state = 'closed';
    this.wakeWaiters();
  }

  /** Waits for a usable session, at most until `deadline` (ms since epoch); `waitMs` is for the message. */
  async usable(deadline: number, waitMs: number, signal?: AbortSignal): Promise<Session> {
    for (;;) {
      if (this.state === 'closed') throw new BridgeError('closed', 'fleet-bridge is shutting down');
      if (signal?.aborted) throw new BridgeError('cancelled', 'cancelled by the client');
      if (this.state === 'ready' && this.current && !this.current.lost) return this.current;
      if (this.state === 'idle') throw new BridgeError('not_running', 'no MCP session yet: initialize first', RPC.notInitialized);
      const left = deadline - Date.now();
      if (left <= 0) {
        // The not-running message already says how to start fleetd; others get the hint.
        const hint = this.lastFailure.includes('--autostart') ? '' : ` ${this.hint}`;
        throw new BridgeError('timeout', `fleetd did not come back within ${Math.round(waitMs / 1000)} s: ${this.lastFailure}.${hint}`);
      }
      // A waiting request makes the supervisor probe now (and often, until it is served).
      this.onTrouble();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        signal?.addEventListener('abort', done, { once: true });
        this.waiters.push(done);
      });
    }
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
