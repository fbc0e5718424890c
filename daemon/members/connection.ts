import ssh2, { type Client, type ConnectConfig } from 'ssh2';
import { FleetError } from '../errors.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../../shared/backoff.js';
import { classifyFailure } from './classify.js';
import type { HostKeyInfo, HostKeyStore } from './host-keys.js';
import { loadPrivateKey } from './identity.js';
import { Liveness, NEEDS_ATTENTION, type LinkFailure, type Transition } from './liveness.js';
import type { MemberRecord, StoredLiveness } from './registry.js';

/** A credential's value for one member, read at connect time (the credentials part; errors name the credential, never a value). */
export interface MemberSecrets {
  valueFor(name: string, member: string): string;
}

/** Connection settings shared by every ssh member (from config.members). */
export interface LinkSettings {
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutMs: number;
  backoff: BackoffPolicy;
}

export interface LinkHooks {
  /** A liveness change to publish (once per transition). */
  onTransition: (t: Transition, link: MemberLink) => void;
  /** A connection is ready; `lost` settles when it ends. */
  onConnected: (client: Client, lost: Promise<LinkFailure>) => void;
}

type Attempt = { ok: true; client: Client; lost: Promise<LinkFailure> } | { ok: false; failure: LinkFailure };

/** `user@host:port`, how messages name an ssh member. */
export function addressOf(m: Pick<MemberRecord, 'user' | 'host' | 'port'>): string {
  return `${m.user}@${m.host}:${m.port ?? 22}`;
}

/**
 * One ssh2 connection to one member, kept up for as long as the member is registered:
 * keepalives detect a dead link, a lost connection is retried at once (so a blip is not an
 * outage) and then with exponential backoff and jitter, so offline members are probed in
 * the background until they come back.
 */
export class MemberLink {
  readonly liveness: Liveness;
  /** The ready connection, if any. */
  client: Client | undefined;
  /** Why the last connection ended, for errors of work that was running on it. */
  lastLoss: LinkFailure | undefined;
  /** The host key seen on the current connection. */
  hostKey: HostKeyInfo | undefined;
  /** True when that key was trusted on first use (nothing was stored for the member yet). */
  hostKeyFirstUse = false;
  connectedAt: number | undefined;
  nextAttemptAt: number | undefined;
  private attempting = false;
  /** A credential this member needs was stored while an attempt was in flight: retry at once. */
  private poked = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private waiters: { resolve: (c: Client) => void; reject: (e: Error) => void }[] = [];

  constructor(
    public record: MemberRecord,
    stored: StoredLiveness,
    private readonly settings: LinkSettings,
    private readonly hostKeys: HostKeyStore,
    private readonly hooks: LinkHooks,
    private readonly secrets?: MemberSecrets,
  ) {
    this.liveness = new Liveness(stored);
  }

  /** Starts connecting, and keeps doing so until stop(). */
  start(): void {
    void this.loop();
  }

  /** True while a connection attempt is in flight. */
  get connecting(): boolean {
    return this.attempting;
  }

  /**
   * The ready connection. While a first attempt or a quick reconnect is under way this
   * waits for it; an offline member fails at once with why it is offline.
   */
  ready(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.stopped) return Promise.reject(new FleetError('member_removed', `member "${this.record.name}" was removed`, 409));
    if (this.liveness.state === 'offline' && !this.attempting) return Promise.reject(this.offlineError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The error for work sent to an offline member. */
  offlineError(): FleetError {
    const since = this.liveness.since ? ` since ${this.liveness.since}` : '';
    const retry = this.nextAttemptAt ? `; next attempt in ${Math.max(0, Math.round((this.nextAttemptAt - Date.now()) / 1000))} s` : '';
    return new FleetError('member_offline', `member "${this.record.name}" is offline (${this.liveness.reason ?? 'unreachable'})${since}: ${this.liveness.lastError ?? ''}${retry}`, 409);
  }

  /** Settings changed (update_member): drop the connection and connect again now. */
  reconnect(record: MemberRecord): void {
    this.record = record;
    // Callers asking ready() right after this wait for the new attempt instead of failing on the old state.
    if (!this.stopped) this.attempting = true;
    // Forget the old connection now: ready() must not hand it out while it is closing.
    const old = this.client;
    this.client = undefined;
    old?.end();
    this.wake?.();
  }

  /** A credential this member logs in with was stored: when not connected, try again now instead of at the slow probe. */
  retryNow(): void {
    if (this.stopped || this.client) return;
    if (this.wake) {
      this.attempting = true;
      this.wake();
    } else {
      this.poked = true;
    }
  }

  /** Closes the connection for good. */
  stop(): void {
    this.stopped = true;
    this.client?.end();
    this.wake?.();
    for (const w of this.waiters.splice(0)) w.reject(new FleetError('member_removed', `member "${this.record.name}" was removed`, 409));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let justLost: LinkFailure | undefined;
    while (!this.stopped) {
      this.attempting = true;
      this.poked = false;
      const attempt = await this.connectOnce();
      this.attempting = false;
      if (this.stopped) {
        if (attempt.ok) attempt.client.end();
        break;
      }
      if (attempt.ok) {
        failures = 0;
        justLost = undefined;
        this.client = attempt.client;
        this.connectedAt = Date.now();
        this.publish(this.liveness.up());
        this.hooks.onConnected(attempt.client, attempt.lost);
        for (const w of this.waiters.splice(0)) w.resolve(attempt.client);
        const lost = await attempt.lost;
        this.client = undefined;
        this.lastLoss = lost;
        if (this.stopped) break;
        if (lost.reason === 'keepalive timeout') {
          // The keepalive window already proved the link dead: report it now.
          this.publish(this.liveness.down(lost));
          failures = 1;
          await this.sleep(backoffDelay(0, this.settings.backoff));
        } else {
          // Closed by the peer or reset: try once at once before calling it an outage.
          justLost = lost;
        }
        continue;
      }
      const failure: LinkFailure = justLost ? { ...attempt.failure, data: { ...attempt.failure.data, after: justLost.message } } : attempt.failure;
      justLost = undefined;
      this.publish(this.liveness.down(failure));
      for (const w of this.waiters.splice(0)) w.reject(this.offlineError());
      // A person has to fix these: probe slowly instead of hammering the host.
      const delay = this.poked ? 0 : NEEDS_ATTENTION.has(failure.reason) ? this.settings.backoff.maxMs : backoffDelay(failures++, this.settings.backoff);
      await this.sleep(delay);
    }
    this.attempting = false;
  }

  private publish(t: Transition | undefined): void {
    if (t) this.hooks.onTransition(t, this);
  }

  private sleep(ms: number): Promise<void> {
    this.nextAttemptAt = Date.now() + ms;
    return sleep(ms, { onWake: (wake) => (this.wake = wake) }).then(() => {
      this.wake = undefined;
      this.nextAttemptAt = undefined;
    });
  }

  /** A credential's value for the member, or a `missing credential` failure naming it (never a value). */
  private secret(name: string, role: string): string {
    const member = this.record.name;
    if (!this.secrets) throw credentialFailure(name, `member "${member}" logs in with credential ${name} (its ${role}), but this fleetd has no credentials part`);
    try {
      return this.secrets.valueFor(name, member);
    } catch (e) {
      throw credentialFailure(name, `member "${member}" needs credential ${name} (its ${role}): ${(e as Error).message}`);
    }
  }

  /** One connection attempt; resolves when it is ready or has failed (never rejects). */
  private connectOnce(): Promise<Attempt> {
    const m = this.record;
    const address = addressOf(m);
    return new Promise<Attempt>((resolve) => {
      let privateKey: Buffer | undefined;
      let password: string | undefined;
      let passphrase: string | undefined;
      try {
        // Fetched now, at each attempt: a value stored, changed or erased since is what counts.
        if (m.passwordCredential) password = this.secret(m.passwordCredential, 'SSH password');
        if (m.passphraseCredential && m.identityFile) passphrase = this.secret(m.passphraseCredential, `key passphrase for ${m.identityFile}`);
        if (m.identityFile) privateKey = loadPrivateKey(m.identityFile, { ...(passphrase !== undefined ? { passphrase } : {}), ...(m.passphraseCredential ? { passphraseCredential: m.passphraseCredential } : {}) });
      } catch (e) {
        resolve({ ok: false, failure: e instanceof CredentialFailure ? e.failure : classifyFailure(e as Error, { address, wasReady: false }) });
        return;
      }
      if (m.useAgent && !process.env.SSH_AUTH_SOCK && !privateKey && password === undefined) {
        resolve({ ok: false, failure: { reason: 'auth failed', message: `member "${m.name}" uses ssh-agent but fleetd has no SSH_AUTH_SOCK` } });
        return;
      }
      const client = new ssh2.Client();
      let ready = false;
      let lastError: Error | undefined;
      let mismatch: { expected: HostKeyInfo; presented: HostKeyInfo } | undefined;
      let resolveLost!: (f: LinkFailure) => void;
      const lost = new Promise<LinkFailure>((r) => (resolveLost = r));
      client.on('ready', () => {
        ready = true;
        resolve({ ok: true, client, lost });
      });
      client.on('error', (e: Error) => {
        lastError ??= e;
        // Keepalive timeout comes after other noise; it is the reason that matters.
        if (/keepalive/i.test(e.message)) lastError = e;
      });
      client.on('close', () => {
        const failure = classifyFailure(lastError, { address, hostKeyMismatch: mismatch, wasReady: ready, ...(m.passwordCredential ? { passwordCredential: m.passwordCredential } : {}) });
        if (ready) resolveLost(failure);
        else resolve({ ok: false, failure });
      });
      const config: ConnectConfig = {
        host: m.host,
        port: m.port ?? 22,
        username: m.user,
        ...(privateKey ? { privateKey, ...(passphrase !== undefined ? { passphrase } : {}) } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(m.useAgent && process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
        readyTimeout: this.settings.connectTimeoutMs,
        keepaliveInterval: this.settings.keepaliveIntervalMs,
        keepaliveCountMax: this.settings.keepaliveCountMax,
        hostVerifier: (key: Buffer) => {
          const verdict = this.hostKeys.check(m.name, key);
          if (verdict.kind === 'mismatch') {
            mismatch = { expected: verdict.expected, presented: verdict.presented };
            return false;
          }
          this.hostKey = verdict.key;
          this.hostKeyFirstUse = verdict.kind === 'first-use';
          return true;
        },
      };
      try {
        client.connect(config);
      } catch (e) {
        resolve({ ok: false, failure: classifyFailure(e as Error, { address, wasReady: false }) });
      }
    });
  }
}

/** A credential a member logs in with is missing, expired, out of scope or unreadable. */
class CredentialFailure extends Error {
  constructor(readonly failure: LinkFailure) {
    super(failure.message);
  }
}

function credentialFailure(name: string, message: string): CredentialFailure {
  return new CredentialFailure({ reason: 'missing credential', message, data: { credential: name } });
}
