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

/**
 * Decides how an ssh member authenticates: an explicit identity file, else ssh-agent when
 * asked or running, else the first default key in ~/.ssh. The key must load now, so a
 * typo or a passphrase-protected key is reported at registration rather than as a
 * mysterious offline member later.
 */
export function resolveAuth(input: { identityFile?: string; useAgent?: boolean }): { identityFile?: string; useAgent: boolean } {
  if (input.identityFile !== undefined) {
    const path = expandHome(input.identityFile);
    if (!isAbsolute(path)) throw new FleetError('bad_identity', `identity_file must be an absolute path (or ~/...) on the machine fleetd runs on; got "${input.identityFile}"`);
    loadPrivateKey(path);
    return { identityFile: path, useAgent: input.useAgent ?? false };
  }
  if (input.useAgent === true) {
    if (!process.env.SSH_AUTH_SOCK) throw new FleetError('no_agent', 'use_agent is set but fleetd sees no ssh-agent (SSH_AUTH_SOCK is unset in its environment); pass identity_file instead');
    return { useAgent: true };
  }
  if (input.useAgent === undefined && process.env.SSH_AUTH_SOCK) return { useAgent: true };
  for (const name of DEFAULT_IDENTITIES) {
    const path = join(homedir(), '.ssh', name);
    if (existsSync(path)) {
      loadPrivateKey(path);
      return { identityFile: path, useAgent: false };
    }
  }
  throw new FleetError('no_identity', `no way to authenticate: pass identity_file (a private key on this machine), or run ssh-agent for fleetd; none of ~/.ssh/${DEFAULT_IDENTITIES.join(', ~/.ssh/')} exists`);
}

/**
 * Reads a private key for a connection and checks that ssh2 can use it; the contents stay
 * in memory for the connection only and never reach a log, event or tool result.
 */
export function loadPrivateKey(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FleetError('bad_identity', `cannot read identity file ${path} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? 'error'})`);
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) {
    const encrypted = /passphrase/i.test(parsed.message);
    throw new FleetError(
      'bad_identity',
      encrypted
        ? `identity file ${path} is protected by a passphrase; load it into ssh-agent and use use_agent instead`
        : `identity file ${path} is not a private key ssh can use (${parsed.message})`,
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) throw new FleetError('bad_identity', `identity file ${path} holds a public key; give the private key (without .pub)`);
  return data;
}
