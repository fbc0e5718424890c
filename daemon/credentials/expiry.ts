import type { EventLog } from '../events/event-log.js';
import type { Vault } from './vault.js';

/** setTimeout's own limit (about 24.8 days); later deadlines are re-armed on the way. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * TTL timers: `credential.expiring` `leadMs` before a value expires, `credential.expired`
 * (value erased) when it does. State lives in the credentials table, not in the timer:
 * each event is appended with `appendWith`, so the row's warned/expired mark commits in the
 * same transaction as the event. A restart re-arms from the table and fires what came due
 * while fleetd was down, once; a credential already past expiry gets only `expired` (a
 * warning about something already gone helps nobody).
 */
export class ExpiryTimers {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private stopped = false;

  constructor(
    private readonly vault: Vault,
    private readonly log: EventLog,
    private readonly leadMs: number,
  ) {}

  /** Fires what is due now and sets one timer for the next deadline. */
  arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = Date.now();
    let next = Infinity;
    for (const c of this.vault.list()) {
      if (c.expiresAt === undefined || c.expired || !c.storedAt || this.inFlight.has(c.name)) continue;
      const warnAt = c.expiresAt - this.leadMs;
      if (c.expiresAt <= now) this.fire(c.name, 'expired', c.expiresAt);
      else if (!c.warned && warnAt <= now) this.fire(c.name, 'expiring', c.expiresAt);
      else next = Math.min(next, c.warned ? c.expiresAt : warnAt);
    }
    if (next !== Infinity) {
      this.timer = setTimeout(() => this.arm(), Math.min(MAX_DELAY, Math.max(0, next - Date.now())));
      this.timer.unref();
    }
  }

  private fire(name: string, what: 'expiring' | 'expired', expiresAt: number): void {
    this.inFlight.add(name);
    const at = new Date(expiresAt).toISOString();
    const append =
      what === 'expired'
        ? this.log.appendWith(
            { topic: 'credential.expired', level: 'warning', subject: name, message: `Secret ${name} expired; its value was erased (enter it again with \`fleetctl secret set ${name}\`)`, data: { name, expiredAt: at } },
            () => this.vault.markExpired(name),
          )
        : this.log.appendWith(
            {
              topic: 'credential.expiring',
              level: 'warning',
              subject: name,
              message: `Secret ${name} expires in ${formatLeft(expiresAt - Date.now())} (at ${at})`,
              data: { name, expiresAt: at, leftS: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)) },
            },
            () => this.vault.markWarned(name),
          );
    append.then(
      () => {
        this.inFlight.delete(name);
        this.arm();
      },
      (e) => {
        console.error(`fleetd: cannot record credential.${what} for ${name} (retrying in 1 s): ${(e as Error).message}`);
        setTimeout(() => {
          this.inFlight.delete(name);
          this.arm();
        }, 1000).unref();
      },
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

function formatLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`;
}
