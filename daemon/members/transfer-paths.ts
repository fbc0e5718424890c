import { basename, isAbsolute, posix } from 'node:path';
import { FleetError } from '../errors.js';
import { expandHome } from './identity.js';

/** One file copied, as tools report it: where from, where to, its size and SHA-256. */
export interface TransferredFile {
  from: string;
  to: string;
  bytes: number;
  sha256: string;
  /** The receiving side hashed its copy and got the same digest. */
  verified: boolean;
}

/** One requested copy after path resolution. */
export interface TransferItem {
  source: string;
  destination: string;
}

/** A member-side path for SFTP: `~/x` and `x` both mean x under the login directory. */
export function memberPath(p: string): string {
  if (p === '~' || p === '~/') return '.';
  return p.startsWith('~/') ? p.slice(2) : p;
}

/** A member-side path for the shell: relative paths start with ./ so none reads as an option. */
export function shellPath(p: string): string {
  const m = memberPath(p);
  return m.startsWith('/') ? m : `./${m}`;
}

/**
 * A path on the machine fleetd runs on: absolute (or ~/...), since fleetd's own working
 * directory means nothing to the caller; `{member}` becomes the member name.
 */
export function localPath(p: string, member: string): string {
  const expanded = expandHome(p.replaceAll('{member}', member));
  if (!isAbsolute(expanded)) throw new FleetError('bad_path', `local path "${p}" must be absolute (or ~/...): fleetd does not share your working directory`);
  return expanded;
}

/** Where a copy lands: a destination ending in "/" means "inside this folder, same name". */
export function intoFolder(destination: string, source: string, join: (a: string, b: string) => string = posix.join): string {
  return destination.endsWith('/') ? join(destination, basename(source.replace(/\/+$/, '')) || 'file') : destination;
}
