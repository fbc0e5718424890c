import { userInfo } from 'node:os';
import type { NewEvent } from '../../shared/events.js';
import type { FleetContext } from '../context.js';
import { FleetError } from '../errors.js';
import { addressOf, type MemberSecrets } from './connection.js';
import { fanOut, resolveTargets, type PerMember } from './fanout.js';
import { HostKeyStore } from './host-keys.js';
import { resolveAuth } from './identity.js';
import { liveLines } from './live-lines.js';
import type { Transition } from './liveness.js';
import { MemberPool } from './pool.js';
import { MemberRegistry, type MemberRecord } from './registry.js';
import type { CommandOutcome, MemberRuntime } from './runtime.js';
import type { ExecuteInput, FetchFilesInput, RegisterInput, SendFilesInput, UpdateInput } from './schema.js';
import { memberSettings, type MemberSettings } from './settings.js';
import { localPath, type TransferOutcome } from './transfer-paths.js';
import { memberDetail, memberView, type MemberView } from './views.js';

/** What members take from the credentials part: `{{secure.NAME}}`, login secrets, and word when one is stored. */
export interface MemberCredentials extends MemberSecrets {
  expand(text: string, member: string): string;
  onStored(listener: (name: string) => void): void;
}

/**
 * Members as one service: the registry, host keys and live connections, and the events
 * they produce. MCP tools, REST routes and fleetctl all go through it.
 */
export class MembersService {
  readonly registry: MemberRegistry;
  readonly hostKeys: HostKeyStore;
  readonly pool: MemberPool;
  readonly settings: MemberSettings;

  /**
   * Set by the tasks part: execute_command with background: true starts a task per target
   * member through it. Unset (no tasks part), background commands are refused.
   */
  background: ((input: ExecuteInput, session: string | undefined) => Promise<PerMember<Record<string, unknown>>[]>) | undefined;

  constructor(
    private readonly ctx: FleetContext,
    /** Fills `{{secure.NAME}}` and login passwords for one member (the credentials part), when it is built. */
    private readonly secrets?: MemberCredentials,
  ) {
    this.registry = new MemberRegistry(ctx.db);
    this.hostKeys = new HostKeyStore(ctx.db);
    this.settings = memberSettings(ctx.config.members);
    this.pool = new MemberPool(this.settings, this.registry, this.hostKeys, (t, runtime, record) => this.onTransition(t, runtime, record), secrets);
    secrets?.onStored((name) => this.pool.credentialStored(name));
    for (const record of this.registry.list()) this.pool.open(record);
  }

  private emit(e: Omit<NewEvent, 'level'> & { level?: NewEvent['level'] }): void {
    this.ctx.log.append({ level: 'info', ...e }).catch((err) => console.error(`fleetd: cannot log ${e.topic}: ${(err as Error).message}`));
  }

  /** Persists a liveness change and publishes it as member.online / member.offline. */
  private onTransition(t: Transition, runtime: MemberRuntime, record: MemberRecord): void {
    this.registry.saveLiveness(record.name, { state: t.to, ...(t.to === 'offline' ? { reason: t.failure.reason } : {}), since: t.since });
    const where = record.kind === 'ssh' ? addressOf(record) : 'this machine';
    const base = { member: record.name, kind: record.kind, address: where, previous: t.from, since: t.since };
    if (t.to === 'online') {
      const hostKey = runtime.state().hostKey;
      const tofu = hostKey?.firstUse ? `; host key ${hostKey.type} ${hostKey.fingerprint} trusted on first use` : '';
      this.emit({
        topic: 'member.online',
        subject: record.name,
        message: `✓ member ${record.name} is online (${where})${tofu}`,
        data: { ...base, state: 'online', ...(hostKey ? { hostKey: hostKey.fingerprint, hostKeyFirstUse: hostKey.firstUse } : {}) },
      });
      return;
    }
    const f = t.failure;
    const level = f.reason === 'host key mismatch' || f.reason === 'auth failed' || f.reason === 'bad identity' || f.reason === 'missing credential' ? 'error' : 'warning';
    this.emit({ topic: 'member.offline', level, subject: record.name, message: `✗ member ${record.name} is offline (${f.reason}): ${f.message}`, data: { ...base, state: 'offline', reason: f.reason, detail: f.message, ...f.data } });
  }

  private runtime(name: string): MemberRuntime {
    const r = this.pool.get(name);
    if (!r) throw this.registry.unknown(name);
    return r;
  }

  /** Waits (bounded) for a member's first connection attempt, so register/update can say how it went. */
  private async settle(runtime: MemberRuntime): Promise<void> {
    const limit = new Promise<void>((r) => setTimeout(r, this.settings.link.connectTimeoutMs + 1000).unref());
    await Promise.race([runtime.settled(), limit]);
  }

  list(): MemberView[] {
    return this.registry.list().map((r) => memberView(r, this.pool.get(r.name)));
  }

  detail(name: string): Record<string, unknown> {
    const record = this.registry.get(name);
    return memberDetail(record, this.pool.get(record.name), this.hostKeys);
  }

  async register(input: RegisterInput): Promise<MemberView> {
    const kind = input.kind ?? 'ssh';
    let record: Omit<MemberRecord, 'createdAt' | 'updatedAt'>;
    if (kind === 'local') {
      const extra = (['host', 'port', 'user', 'identity_file', 'use_agent', 'password_credential', 'passphrase_credential'] as const).filter((k) => input[k] !== undefined);
      if (extra.length) throw new FleetError('bad_member', `a local member runs on this machine without SSH; drop ${extra.join(', ')}`);
      record = { name: input.name, kind, useAgent: false, ...(input.description ? { description: input.description } : {}) };
    } else {
      if (!input.host) throw new FleetError('bad_member', 'host is required for an ssh member (or use kind "local" for this machine)');
      const logins = { ...(input.password_credential ? { passwordCredential: input.password_credential } : {}), ...(input.passphrase_credential ? { passphraseCredential: input.passphrase_credential } : {}) };
      const auth = resolveAuth({ identityFile: input.identity_file, useAgent: input.use_agent, ...logins });
      record = { name: input.name, kind, host: input.host, port: input.port ?? 22, user: input.user ?? userInfo().username, ...auth, ...logins, ...(input.description ? { description: input.description } : {}) };
    }
    const stored = this.registry.insert(record);
    this.hostKeys.forget(stored.name); // a key left by an earlier member of this name is not this one's
    await this.ctx.log.append({
      topic: 'member.added',
      level: 'info',
      subject: stored.name,
      message: `member ${stored.name} added (${stored.kind === 'ssh' ? addressOf(stored) : 'this machine'})`,
      data: { member: stored.name, kind: stored.kind, ...(stored.kind === 'ssh' ? { host: stored.host, port: stored.port, user: stored.user } : {}) },
    });
    const runtime = this.pool.open(stored);
    await this.settle(runtime);
    return memberView(stored, runtime);
  }

  async update(input: UpdateInput): Promise<{ member: MemberView; changed: string[]; notes: string[] }> {
    const current = this.registry.get(input.name);
    const next: MemberRecord = { ...current };
    const changed: string[] = [];
    const notes: string[] = [];
    const set = <K extends keyof MemberRecord>(key: K, value: MemberRecord[K] | undefined, label: string) => {
      if (value === current[key]) return;
      if (value === undefined) delete next[key];
      else next[key] = value;
      changed.push(label);
    };
    if (current.kind === 'local') {
      const extra = (['host', 'port', 'user', 'identity_file', 'use_agent', 'password_credential', 'passphrase_credential', 'accept_new_host_key'] as const).filter((k) => input[k] !== undefined);
      if (extra.length) throw new FleetError('bad_member', `member ${current.name} is local (no SSH); ${extra.join(', ')} do not apply`);
    }
    if (input.host !== undefined) set('host', input.host, 'host');
    if (input.port !== undefined) set('port', input.port, 'port');
    if (input.user !== undefined) set('user', input.user, 'user');
    if (input.description !== undefined) set('description', input.description ?? undefined, 'description');
    const password = input.password_credential === undefined ? current.passwordCredential : (input.password_credential ?? undefined);
    const passphrase = input.passphrase_credential === undefined ? current.passphraseCredential : (input.passphrase_credential ?? undefined);
    if (input.password_credential !== undefined) set('passwordCredential', password, 'password_credential');
    if (input.passphrase_credential !== undefined) set('passphraseCredential', passphrase, 'passphrase_credential');
    if (input.identity_file !== undefined || input.use_agent !== undefined || input.passphrase_credential !== undefined) {
      const logins = { ...(password ? { passwordCredential: password } : {}), ...(passphrase ? { passphraseCredential: passphrase } : {}) };
      const auth =
        input.identity_file === null
          ? resolveAuth({ useAgent: input.use_agent ?? (password ? undefined : true), ...logins })
          : resolveAuth({ identityFile: input.identity_file ?? current.identityFile, useAgent: input.use_agent ?? (input.identity_file ? false : current.useAgent), ...logins });
      set('identityFile', auth.identityFile, 'identity_file');
      set('useAgent', auth.useAgent, 'use_agent');
    }
    if (changed.includes('host') || changed.includes('port')) {
      this.hostKeys.forget(current.name);
      notes.push('host or port changed: the stored host key was dropped; the next key seen is trusted on first use');
    }
    let acceptedKey: string | undefined;
    if (input.accept_new_host_key) {
      const accepted = this.hostKeys.acceptNew(current.name);
      acceptedKey = accepted?.fingerprint;
      notes.push(accepted ? `now trusting host key ${accepted.type} ${accepted.fingerprint}` : 'no refused key on record: the next key the member presents will be trusted');
      changed.push('host_key');
    }
    if (changed.length === 0) return { member: memberView(current, this.pool.get(current.name)), changed, notes: ['nothing to change'] };
    const saved = this.registry.replace(next);
    await this.ctx.log.append({
      topic: 'member.updated',
      level: 'info',
      subject: saved.name,
      message: `member ${saved.name} updated: ${changed.join(', ')}`,
      data: { member: saved.name, changed, ...(acceptedKey ? { hostKey: acceptedKey } : {}) },
    });
    const runtime = this.pool.get(saved.name);
    if (changed.some((c) => c !== 'description')) {
      this.pool.update(saved);
      if (runtime) await this.settle(runtime);
    }
    return { member: memberView(saved, this.pool.get(saved.name)), changed, notes };
  }

  async remove(name: string): Promise<{ removed: string }> {
    const record = this.registry.get(name);
    this.pool.close(record.name);
    this.registry.delete(record.name);
    this.hostKeys.forget(record.name);
    await this.ctx.log.append({ topic: 'member.removed', level: 'info', subject: record.name, message: `member ${record.name} removed`, data: { member: record.name, kind: record.kind } });
    return { removed: record.name };
  }

  /**
   * execute_command: the same command on every target at once, one result (or error) per member.
   * `onLine` (fleetctl exec) also gets each member's output line by line, redacted, as it comes.
   */
  async execute(input: ExecuteInput, signal?: AbortSignal, onLine?: (member: string, stream: 'stdout' | 'stderr', text: string) => void): Promise<PerMember<CommandOutcome>[]> {
    const names = resolveTargets(this.registry, input);
    const timeoutMs = input.timeout_s !== undefined ? Math.round(input.timeout_s * 1000) : this.settings.commandTimeoutMs;
    const spec = { command: input.command, ...(input.cwd ? { cwd: input.cwd } : {}), ...(input.env ? { env: input.env } : {}) };
    // Secrets are filled in per member (each has its own scope) and redacted from everything that comes back.
    const forMember = (n: string) => {
      const expand = (t: string) => this.expandSecrets(t, n);
      return { ...spec, command: expand(spec.command), ...(spec.env ? { env: Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, expand(v)])) } : {}) };
    };
    const redact = (t: string) => this.ctx.redactor.redact(t);
    const results = await fanOut(names, async (n) => {
      if (!onLine) return this.runtime(n).run(forMember(n), { timeoutMs, signal });
      const lines = liveLines(redact, (stream, text) => onLine(n, stream, text));
      try {
        return await this.runtime(n).run(forMember(n), { timeoutMs, signal, onOutput: lines.listener });
      } finally {
        lines.end();
      }
    });
    return this.ctx.redactor.redactDeep(results);
  }

  /** Fills `{{secure.NAME}}` for one member (its credentials' scope applies); text as it is without the credentials part. */
  expandSecrets(text: string, member: string): string {
    return this.secrets ? this.secrets.expand(text, member) : text;
  }

  /** execute_command with background: true (through the tasks part). */
  startBackground(input: ExecuteInput, session: string | undefined): Promise<PerMember<Record<string, unknown>>[]> {
    if (!this.background) throw new FleetError('bad_member', 'background commands need the tasks part, which this fleetd does not have');
    return this.background(input, session);
  }

  /** Target member names of a call (one, a list, or "all"). */
  targets(input: ExecuteInput): string[] {
    return resolveTargets(this.registry, input);
  }

  /** send_files: local files/folders to every target, with sizes and checksums (`onProgress`: each member's bytes done of its total). */
  async sendFiles(input: SendFilesInput, onProgress?: (member: string, done: number, total: number) => void): Promise<PerMember<TransferOutcome>[]> {
    const names = resolveTargets(this.registry, input);
    for (const f of input.files) localPath(f.local, names[0]!); // a bad path is the call's error, not every member's
    return fanOut(names, (n) => this.runtime(n).send(input.files.map((f) => ({ source: localPath(f.local, n), destination: f.remote.replaceAll('{member}', n) })), onProgress && ((d, t) => onProgress(n, d, t))));
  }

  /** fetch_files: member files/folders to this machine, with sizes and checksums. */
  async fetchFiles(input: FetchFilesInput, onProgress?: (member: string, done: number, total: number) => void): Promise<PerMember<TransferOutcome>[]> {
    const names = resolveTargets(this.registry, input);
    if (names.length > 1 && input.files.some((f) => !f.local.includes('{member}'))) {
      throw new FleetError('bad_path', 'fetching from several members: put {member} in every local path (e.g. /tmp/logs/{member}/syslog) so their files do not overwrite each other');
    }
    for (const f of input.files) localPath(f.local, names[0]!);
    return fanOut(names, (n) => this.runtime(n).fetch(input.files.map((f) => ({ source: f.remote.replaceAll('{member}', n), destination: localPath(f.local, n) })), onProgress && ((d, t) => onProgress(n, d, t))));
  }

  /** Counts for GET /status. */
  summary(): Record<string, unknown> {
    return this.pool.summary();
  }

  stop(): void {
    this.pool.stopAll();
  }
}
