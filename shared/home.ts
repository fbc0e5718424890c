import { mkdirSync, chmodSync, writeFileSync, renameSync, readFileSync, existsSync, statSync } from 'node:fs';
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

/** Writes a file readable by its owner only (0600), atomically via rename. */
export function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Reads a file as trimmed text, or undefined when it is absent. */
export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
