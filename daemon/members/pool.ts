import type { MemberSecrets } from './connection.js';
import type { HostKeyStore } from './host-keys.js';
import type { Transition } from './liveness.js';
import { LocalMember } from './local-member.js';
import type { MemberRecord, MemberRegistry } from './registry.js';
import type { MemberRuntime } from './runtime.js';
import type { MemberSettings } from './settings.js';
import { SshMember } from './ssh-member.js';

/** A liveness change of one member, for the part to publish. */
export type TransitionHandler = (t: Transition, member: MemberRuntime, record: MemberRecord) => void;

/** The live side of every registered member: one runtime (and for ssh, one connection) each. */
export class MemberPool {
  private readonly runtimes = new Map<string, { runtime: MemberRuntime; record: MemberRecord }>();

  constructor(
    private readonly settings: MemberSettings,
    private readonly registry: MemberRegistry,
    private readonly hostKeys: HostKeyStore,
    private readonly onTransition: TransitionHandler,
    private readonly secrets?: MemberSecrets,
  ) {}

  /** Starts a runtime for a registered member (connecting in the background). */
  open(record: MemberRecord): MemberRuntime {
    this.close(record.name);
    const stored = this.registry.liveness(record.name);
    const entry = { record, runtime: undefined as unknown as MemberRuntime };
    const report = (t: Transition) => this.onTransition(t, entry.runtime, entry.record);
    entry.runtime =
      record.kind === 'local'
        ? new LocalMember(record, stored, this.settings.pool.killGraceMs, this.settings.outputLimit, report)
        : new SshMember(record, stored, this.settings, this.hostKeys, report, this.secrets);
    this.runtimes.set(record.name.toLowerCase(), entry);
    entry.runtime.start();
    return entry.runtime;
  }

  /** New settings for a member: ssh members reconnect at once on the same runtime. */
  update(record: MemberRecord): void {
    const entry = this.runtimes.get(record.name.toLowerCase());
    if (entry?.runtime instanceof SshMember) {
      entry.record = record;
      entry.runtime.link.reconnect(record);
    } else {
      this.open(record);
    }
  }

  /** A credential was stored: members that log in with it and are not connected try again now. */
  credentialStored(name: string): void {
    for (const { runtime, record } of this.runtimes.values()) {
      if (runtime instanceof SshMember && (record.passwordCredential === name || record.passphraseCredential === name)) runtime.link.retryNow();
    }
  }

  /** Stops a member's runtime (removal). */
  close(name: string): void {
    const entry = this.runtimes.get(name.toLowerCase());
    if (!entry) return;
    this.runtimes.delete(name.toLowerCase());
    entry.runtime.stop();
  }

  /** The runtime of a registered member. */
  get(name: string): MemberRuntime | undefined {
    return this.runtimes.get(name.toLowerCase())?.runtime;
  }

  /** Counts by state, for GET /status and fleet_status. */
  summary(): { total: number; online: number; offline: number; connecting: number } {
    const counts = { total: 0, online: 0, offline: 0, connecting: 0 };
    for (const { runtime } of this.runtimes.values()) {
      counts.total++;
      const s = runtime.state().state;
      if (s === 'online') counts.online++;
      else if (s === 'offline') counts.offline++;
      else counts.connecting++;
    }
    return counts;
  }

  /** Closes every connection (daemon shutdown). */
  stopAll(): void {
    for (const name of [...this.runtimes.keys()]) this.close(name);
  }
}
