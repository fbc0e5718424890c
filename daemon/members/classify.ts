import { FleetError } from '../errors.js';
import type { HostKeyInfo } from './host-keys.js';
import type { LinkFailure } from './liveness.js';

type SshError = Error & { level?: string; code?: string };

/** What the connection knew when it failed, beyond the error itself. */
export interface FailureContext {
  /** Where the member is, for messages. */
  address: string;
  /** Set when our host key check refused the key. */
  hostKeyMismatch?: { expected: HostKeyInfo; presented: HostKeyInfo };
  /** The connection had been established (so this is a loss, not a failed attempt). */
  wasReady: boolean;
  /** The member logs in with the password in this credential. */
  passwordCredential?: string;
}

/** Turns an ssh2 / socket error into one of the offline reasons with a message a person can act on. */
export function classifyFailure(err: SshError | undefined, c: FailureContext): LinkFailure {
  if (c.hostKeyMismatch) {
    const { expected, presented } = c.hostKeyMismatch;
    return {
      reason: 'host key mismatch',
      message:
        `host key of ${c.address} changed: expected ${expected.type} ${expected.fingerprint}, got ${presented.type} ${presented.fingerprint}; ` +
        'refusing to connect. If the change is expected (reinstalled host), accept it with update_member accept_new_host_key=true',
      data: { expectedFingerprint: expected.fingerprint, presentedFingerprint: presented.fingerprint, keyType: presented.type },
    };
  }
  if (err instanceof FleetError && err.code === 'bad_identity') return { reason: 'bad identity', message: err.message };
  const code = err?.code ?? '';
  const msg = err?.message ?? 'closed by the member';
  if (err?.level === 'client-timeout' && /keepalive/i.test(msg)) {
    return { reason: 'keepalive timeout', message: `no answer from ${c.address} to SSH keepalives; the link is dead` };
  }
  if (err?.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    if (c.passwordCredential) {
      return {
        reason: 'auth failed',
        message: `${c.address} refused the login (authentication failed); check the user, and the password in credential ${c.passwordCredential} (store the right one with \`fleetctl secret set ${c.passwordCredential}\`)`,
        data: { credential: c.passwordCredential },
      };
    }
    return { reason: 'auth failed', message: `${c.address} refused our key (authentication failed); check user, identity file and the member's authorized_keys` };
  }
  if (err?.level === 'agent') return { reason: 'auth failed', message: `ssh-agent error while authenticating to ${c.address}: ${msg}` };
  if (code === 'ECONNREFUSED') return { reason: 'connection refused', message: `${c.address} refused the connection (is sshd running?)` };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN') return { reason: 'unreachable', message: `${c.address} is unreachable (${code})` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || err?.level === 'client-dns') return { reason: 'unreachable', message: `cannot resolve the host of ${c.address} (${code || msg})` };
  if (err?.level === 'client-timeout' || code === 'ETIMEDOUT') return { reason: 'connect timeout', message: `${c.address} did not complete the SSH handshake in time` };
  if (c.wasReady || code === 'ECONNRESET' || code === 'EPIPE') return { reason: 'connection lost', message: `connection to ${c.address} was lost (${code || msg})` };
  return { reason: 'error', message: `cannot connect to ${c.address}: ${msg}` };
}
