import { join } from 'node:path';
import { parseDuration, type NewEvent } from '../../shared/events.js';
import type { FleetContext } from '../context.js';
import { FleetError } from '../errors.js';
import { EntryCodes } from './entry-codes.js';
import { ExpiryTimers } from './expiry.js';
import { checkName, loadOrCreateKey, Vault, type CredentialRecord } from './vault.js';

/** How a value came in, for credential.stored. */
export type EntryWay = 'cli' | 'page';

/** A credential as tools, routes and fleetctl show it: metadata and time left, never the value. */
export interface CredentialView {
  name: string;
  description?: string;
  /** Members allowed to use it; "all" when unrestricted. */
  members: string[] | 'all';
  state: 'requested' | 'stored' | 'expired' | 'unreadable';
  ttlS?: number;
  storedAt?: string;
  expiresAt?: string;
  timeLeftS?: number;
}

/** A TTL as the tools and the CLI take it: seconds, or a duration such as 90s, 10m, 1h. */
export function ttlMsOf(ttl: string | number | undefined | null): number | undefined | null {
  if (ttl === undefined || ttl === null) return ttl;
  const ms = parseDuration(ttl);
  if (ms === undefined || ms <= 0) throw new FleetError('bad_credential', `bad ttl ${JSON.stringify(ttl)}: use seconds or a duration such as 90s, 10m, 1h, 7d`);
  return ms;
}

const TEMPLATE = /\{\{\s*secure\.([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * Credentials as one service: the encrypted vault, the two ways a value comes in (the
 * socket and the one-time page both call `store`), TTL timers, `{{secure.NAME}}`
 * expansion for members, and the redactor every stored value is added to.
 */
export class CredentialsService {
  readonly vault: Vault;
  readonly codes: EntryCodes;
  private readonly timers: ExpiryTimers;
  private readonly unreadable = new Set<string>();
  private readonly storedListeners: ((name: string) => void)[] = [];

  constructor(private readonly ctx: FleetContext) {
    this.vault = new Vault(ctx.db, loadOrCreateKey(join(ctx.paths.home, 'vault.key')));
    this.codes = new EntryCodes(ctx.config.credentials.pageCodeTtl);
    for (const name of this.vault.storedNames()) {
      try {
        ctx.redactor.add(name, this.vault.reveal(name));
      } catch (e) {
        this.unreadable.add(name);
        console.error(`fleetd: ${(e as Error).message}`);
      }
    }
    this.timers = new ExpiryTimers(this.vault, ctx.log, ctx.config.credentials.expiryWarning);
    this.timers.arm();
  }

  private async emit(e: Omit<NewEvent, 'level'> & { level?: NewEvent['level'] }): Promise<void> {
    await this.ctx.log.append({ level: 'notice', ...e });
  }

  /** credential_store_set: records what is asked for and says how the user enters it. */
  async request(input: { name: string; description?: string; ttl?: string | number; members?: string[] }): Promise<{ credential: CredentialView; command: string; url?: string; urlExpiresAt?: string; note: string }> {
    const name = checkName(input.name);
    const ttlMs = ttlMsOf(input.ttl);
    const record = this.vault.upsertMeta(name, {
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.members !== undefined ? { members: input.members } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
    });
    const base = this.ctx.url();
    const code = base ? this.codes.issue(name) : undefined;
    const url = code ? `${base}/credentials/enter?code=${code.code}` : undefined;
    const command = `fleetctl secret set ${name}`;
    await this.emit({
      topic: 'credential.requested',
      subject: name,
      message: `Secret requested: ${name}; enter it with \`${command}\`${url ? ' or on the one-time page' : ''}`,
      data: { name, ...(record.description ? { description: record.description } : {}), members: record.members ?? 'all', ...(record.ttlMs ? { ttlS: record.ttlMs / 1000 } : {}) },
    });
    const note =
      `Ask the user to enter the secret out of band: run \`${command}\` in a terminal (input is hidden)` +
      (url ? `, or open ${url} (works once, for ${Math.round(this.ctx.config.credentials.pageCodeTtl / 60_000)} min)` : '') +
      `. The value never passes through you. A credential.stored event ("✓ Secret stored: ${name}") follows the moment it is stored; wait for it with wait_for_events topics ["credential.*"]. Use it as {{secure.${name}}} in execute_command.`;
    return { credential: this.view(record), command, ...(url ? { url, urlExpiresAt: new Date(code!.expiresAt).toISOString() } : {}), note };
  }

  /** Stores a value that came in out of band; resolves once credential.stored is durable. */
  async store(name: string, value: string, opts: { ttl?: string | number; via: EntryWay }): Promise<CredentialView> {
    checkName(name);
    const ttlMs = ttlMsOf(opts.ttl) ?? undefined;
    const record = this.vault.storeValue(name, value, ttlMs);
    this.ctx.redactor.add(name, value);
    this.unreadable.delete(name);
    await this.emit({
      topic: 'credential.stored',
      subject: name,
      message: `✓ Secret stored: ${name}`,
      data: { name, via: opts.via, members: record.members ?? 'all', ...(record.expiresAt ? { expiresAt: new Date(record.expiresAt).toISOString() } : {}) },
    });
    this.timers.arm();
    for (const listener of this.storedListeners) listener(name);
    return this.view(record);
  }

  /** Called with a credential's name once its value is stored or its scope changes (members waiting for a login secret reconnect). */
  onStored(listener: (name: string) => void): void {
    this.storedListeners.push(listener);
  }

  /**
   * Resolves with the credential once its value is stored (at once if it is); rejects when
   * `signal` aborts or the one-time page's time runs out first. Never the value.
   */
  whenStored(name: string, signal: AbortSignal): Promise<CredentialView> {
    const current = (): CredentialView | undefined => this.list().find((c) => c.name === name && c.state === 'stored');
    const now = current();
    if (now) return Promise.resolve(now);
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.ctx.config.credentials.pageCodeTtl)]);
    return new Promise((resolve, reject) => {
      const listener = (stored: string) => {
        const view = stored === name ? current() : undefined;
        if (!view) return;
        done();
        resolve(view);
      };
      const onAbort = () => {
        done();
        reject(new FleetError('credential_not_stored', `${name} was not stored in time; ask again with credential_store_set`, 408));
      };
      const done = () => {
        deadline.removeEventListener('abort', onAbort);
        const i = this.storedListeners.indexOf(listener);
        if (i >= 0) this.storedListeners.splice(i, 1);
      };
      if (deadline.aborted) return onAbort();
      this.storedListeners.push(listener);
      deadline.addEventListener('abort', onAbort, { once: true });
    });
  }

  list(): CredentialView[] {
    return this.vault.list().map((r) => this.view(r));
  }

  /** credential_store_update: description, scope, TTL (a new TTL runs from now; null removes it). */
  update(input: { name: string; description?: string | null; members?: string[] | null; ttl?: string | number | null }): CredentialView {
    this.vault.require(input.name);
    const ttlMs = ttlMsOf(input.ttl);
    const record = this.vault.upsertMeta(input.name, {
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.members !== undefined ? { members: input.members } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
    });
    this.timers.arm();
    // A wider scope may let a waiting member log in now.
    if (record.storedAt && !record.expired) for (const listener of this.storedListeners) listener(record.name);
    return this.view(record);
  }

  /** credential_store_delete and `fleetctl secret rm`: the row and its value go with the event, in one transaction. */
  async delete(name: string): Promise<{ deleted: string }> {
    const record = this.vault.require(name);
    this.codes.revoke(record.name);
    await this.ctx.log.appendWith(
      { topic: 'credential.deleted', level: 'info', subject: record.name, message: `Secret deleted: ${record.name}`, data: { name: record.name } },
      () => (this.vault.delete(record.name), true),
    );
    this.unreadable.delete(record.name);
    this.timers.arm();
    return { deleted: record.name };
  }

  /** Replaces every `{{secure.NAME}}` for one member; errors name the credential, never a value. */
  expand(text: string, member: string): string {
    if (!text.includes('{{')) return text;
    return text.replace(TEMPLATE, (_, name: string) => this.valueFor(name, member));
  }

  /** A credential's value for one member in its scope (`{{secure.NAME}}`, SSH passwords and passphrases); errors name the credential, never a value. */
  valueFor(name: string, member: string): string {
    const record = this.vault.require(name);
    if (record.members && !record.members.some((m) => m.toLowerCase() === member.toLowerCase())) {
      throw new FleetError('credential_out_of_scope', `credential ${name} may not be used on member ${member}: its scope is ${record.members.join(', ')} (change it with credential_store_update)`, 403);
    }
    return this.vault.reveal(name);
  }

  /** Counts for GET /status. */
  summary(): Record<string, unknown> {
    const all = this.list();
    return { total: all.length, stored: all.filter((c) => c.state === 'stored').length, requested: all.filter((c) => c.state === 'requested').length, unreadable: [...this.unreadable] };
  }

  private view(r: CredentialRecord): CredentialView {
    const state = this.unreadable.has(r.name) ? 'unreadable' : r.expired ? 'expired' : r.storedAt ? 'stored' : 'requested';
    return {
      name: r.name,
      ...(r.description ? { description: r.description } : {}),
      members: r.members ?? 'all',
      state,
      ...(r.ttlMs !== undefined ? { ttlS: r.ttlMs / 1000 } : {}),
      ...(r.storedAt ? { storedAt: r.storedAt } : {}),
      ...(r.expiresAt !== undefined && state === 'stored' ? { expiresAt: new Date(r.expiresAt).toISOString(), timeLeftS: Math.max(0, Math.round((r.expiresAt - Date.now()) / 1000)) } : {}),
    };
  }

  stop(): void {
    this.timers.stop();
  }
}
