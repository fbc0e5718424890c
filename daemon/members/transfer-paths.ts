import { basename, isAbsolute, posix, relative, resolve, sep } from 'node:path';
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

/**
 * Something inside a folder being copied that was not copied. Symbolic links are neither
 * followed nor recreated (followed, one could pull in files from outside the tree, or, recreated,
 * point a later write anywhere); devices, sockets and pipes are not files to copy.
 */
export interface SkippedEntry {
  path: string;
  reason: 'symbolic link' | 'not a regular file or folder';
}

/** What one member's transfer did: the files copied and what it left out. */
export interface TransferOutcome {
  files: TransferredFile[];
  skipped: SkippedEntry[];
}

/** Folders deeper than this are refused: a member could otherwise list one folder inside itself forever. */
export const MAX_TREE_DEPTH = 128;

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
  if (!destination.endsWith('/')) return destination;
  const name = basename(posix.normalize(source).replace(/\/+$/, ''));
  // "x/.." names no folder of its own: its contents would land beside the destination, not in it.
  if (name === '..') throw new FleetError('bad_path', `"${source}" ends in "..": name the folder itself (its full path) when copying into "${destination}"`);
  return join(destination, name || 'file');
}

/**
 * A name from a folder listing, as one path component. A member's SFTP server chooses these
 * names: "../x", "a/b", "." or ".." (or a NUL) would place a file outside the destination.
 */
export function checkedName(name: string, folder: string, member: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new FleetError(
      'unsafe_name',
      `member "${member}" listed ${JSON.stringify(name)} in ${folder}: a file name must be one path component (no "/", NUL, "." or ".."); refused, nothing was copied`,
      502,
    );
  }
  return name;
}

/** `path` itself, after checking it resolves to `root` or somewhere under it. */
export function staysUnder(root: string, path: string, member: string): string {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new FleetError('unsafe_name', `copying from member "${member}" would write ${JSON.stringify(path)}, outside ${root}; refused, nothing was copied`, 502);
  }
  return path;
}
