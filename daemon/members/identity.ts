import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import ssh2 from 'ssh2';
import { FleetError } from '../errors.js';

/** Expands a leading `~/` to the daemon user's home. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** OpenSSH's default identities, in the order ssh tries them. */
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** How an ssh member authenticates, as register_member and update_member give it. */
export interface AuthInput {
  identityFile?: string;
  useAgent?: boolean;
  /** A credential holds the SSH password: no key or agent is needed. */
  passwordCredential?: string;
  /** A credential holds identity_file's passphrase: the key may be encrypted. */
  passphraseCredential?: string;
}

/**
 * Decides how an ssh member authenticates: an explicit identity file, else ssh-agent when
 * asked or running, else the first default key in ~/.ssh, else (when a password credential
 * is named) the password alone. The key must load now, so a typo or a passphrase-protected
 * key without a passphrase credential is reported at registration rather than as a
 * mysterious offline member later.
 */
export function resolveAuth(input: AuthInput): { identityFile?: string; useAgent: boolean } {
  const encryptedOk = input.passphraseCredential !== undefined;
  if (input.identityFile !== undefined) {
    const path = expandHome(input.identityFile);
    if (!isAbsolute(path)) throw new FleetError('bad_identity', `identity_file must be an absolute path (or ~/...) on the machine fleetd runs on; got "${input.identityFile}"`);
    loadPrivateKey(path, { encryptedOk });
    return { identityFile: path, useAgent: input.useAgent ?? false };
  }
  if (input.passphraseCredential !== undefined) throw new FleetError('bad_identity', `passphrase_credential ${input.passphraseCredential} is the passphrase of a key: give that key as identity_file`);
  if (input.useAgent === true) {
    if (!process.env.SSH_AUTH_SOCK) throw new FleetError('no_agent', 'use_agent is set but fleetd sees no ssh-agent (SSH_AUTH_SOCK is unset in its environment); pass identity_file instead');
    return { useAgent: true };
  }
  if (input.useAgent === undefined && process.env.SSH_AUTH_SOCK) return { useAgent: true };
  // A password member tries no key of the daemon user's own unless one is named.
  if (input.passwordCredential !== undefined) return { useAgent: false };
  for (const name of DEFAULT_IDENTITIES) {
    const path = join(homedir(), '.ssh', name);
    if (existsSync(path)) {
      loadPrivateKey(path);
      return { identityFile: path, useAgent: false };
    }
  }
  throw new FleetError(
    'no_identity',
    `no way to authenticate: pass identity_file (a private key on this machine), password_credential (a stored credential holding the password), or run ssh-agent for fleetd; none of ~/.ssh/${DEFAULT_IDENTITIES.join(', ~/.ssh/')} exists`,
  );
}

/**
 * Reads a private key for a connection and checks that ssh2 can use it; the contents stay
 * in memory for the connection only and never reach a log, event or tool result. An
 * encrypted key needs its passphrase (from a credential at connect time), or `encryptedOk`
 * at registration, before that credential may even be stored.
 */
export function loadPrivateKey(path: string, opts: { passphrase?: string; passphraseCredential?: string; encryptedOk?: boolean } = {}): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FleetError('bad_identity', `cannot read identity file ${path} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? 'error'})`);
  }
  const parsed = ssh2.utils.parseKey(data, opts.passphrase);
  if (parsed instanceof Error) {
    if (opts.encryptedOk && /no passphrase given/i.test(parsed.message)) return data;
    const wrong = opts.passphrase !== undefined && /passphrase|integrity|decrypt/i.test(parsed.message);
    const encrypted = /passphrase/i.test(parsed.message);
    throw new FleetError(
      'bad_identity',
      wrong
        ? `identity file ${path} does not open with the passphrase in credential ${opts.passphraseCredential ?? '(given)'}; store the right one with \`fleetctl secret set ${opts.passphraseCredential ?? 'NAME'}\``
        : encrypted
          ? `identity file ${path} is protected by a passphrase; name a credential holding it with passphrase_credential, or load the key into ssh-agent and use use_agent`
          : `identity file ${path} is not a private key ssh can use (${parsed.message})`,
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) throw new FleetError('bad_identity', `identity file ${path} holds a public key; give the private key (without .pub)`);
  return data;
}
