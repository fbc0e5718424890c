import { addressOf } from './connection.js';
import type { HostKeyStore } from './host-keys.js';
import type { MemberRecord } from './registry.js';
import type { MemberView } from '../../shared/protocol.js';
import type { MemberRuntime, RuntimeState } from './runtime.js';

export type { MemberView } from '../../shared/protocol.js';

/** The short view of a member. */
export function memberView(record: MemberRecord, runtime: MemberRuntime | undefined): MemberView {
  const live: RuntimeState = runtime?.state() ?? { state: 'unknown' };
  return {
    name: record.name,
    kind: record.kind,
    ...(record.kind === 'ssh'
      ? { address: addressOf(record), host: record.host, port: record.port ?? 22, user: record.user, ...(record.identityFile ? { identityFile: record.identityFile } : {}),
          useAgent: record.useAgent,
          ...(record.passwordCredential ? { passwordCredential: record.passwordCredential } : {}),
          ...(record.passphraseCredential ? { passphraseCredential: record.passphraseCredential } : {}),
        }
      : {}),
    ...(record.description ? { description: record.description } : {}),
    state: live.state,
    ...(live.reason ? { reason: live.reason } : {}),
    ...(live.since ? { since: live.since } : {}),
    ...(live.lastError ? { lastError: live.lastError } : {}),
  };
}

/** Everything about one member: the view plus host keys, connection and channel use. */
export function memberDetail(record: MemberRecord, runtime: MemberRuntime | undefined, hostKeys: HostKeyStore): Record<string, unknown> {
  const live = runtime?.state();
  const keys = hostKeys.get(record.name);
  return {
    ...memberView(record, runtime),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(live?.connectedAt ? { connectedAt: live.connectedAt } : {}),
    ...(live?.nextAttemptAt ? { nextAttemptAt: live.nextAttemptAt } : {}),
    ...(live?.channels ? { channels: live.channels } : {}),
    ...(record.kind === 'ssh'
      ? {
          hostKey: keys.trusted ? { type: keys.trusted.type, fingerprint: keys.trusted.fingerprint, trustedAt: keys.trusted.at } : null,
          ...(keys.offered ? { refusedHostKey: { type: keys.offered.type, fingerprint: keys.offered.fingerprint, seenAt: keys.offered.at } } : {}),
        }
      : {}),
  };
}
