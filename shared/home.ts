import { mkdirSync, chmodSync, writeFileSync, renameSync, readFileSync, existsSync, statSync, lstatSync, openSync, fstatSync, closeSync, rmSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Resolves the daemon's home folder: explicit flag, then FLEET_HOME, then ~/.fleet. */
export function resolveHome(flag?: string): string {
  const h = flag ?? process.env.FLEET_HOME ?? join(homedir(), '.fleet');
  return resolve(h.startsWith('~/') ? join(homedir(), h.slice(2)) : h);
}

/** Every file fleetd keeps under its home, in one place. */
export function homePaths(home: string) {
  return {
    home,
    db: join(home, 'fleet.db'),
    token: join(home, 'token'),
    serverJson: join(home, 'server.json'),
    lock: join(home, 'fleetd.lock'),
    config: join(home, 'config.json'),
    logs: join(home, 'logs'),
  };
}
export type HomePaths = ReturnType<typeof homePaths>;

/** Creates a private folder (0700), tightening it if it already exists. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/**
 * Private folders `parts` below `home` (0700), made one at a time; a symlink or a non-folder
 * in their place is refused (thrown), so nothing planted there leads fleet's files out of home.
 */
export function ensurePrivateDirBelow(home: string, ...parts: string[]): string {
  let dir = home;
  for (const part of parts) {
    dir = join(dir, part);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new Error(`${dir} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; fleet only writes into a real folder there`);
    if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  }
  return dir;
}

/**
 * A regular file's text, at most `maxBytes`: a FIFO or device is refused instead of blocking
 * the process, and with `noFollow` a symlink is refused too (for files fleet writes itself).
 */
export function readRegularFile(path: string, maxBytes: number, opts: { noFollow?: boolean } = {}): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${path} is over ${maxBytes} bytes`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Writes a file readable by its owner only (0600), atomically via rename; the temporary file is made new, never through a symlink. */
export function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Reads a file as trimmed text, or undefined when it is absent. */
export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
