import { statSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';
import type { HomePaths } from '../shared/home.js';
import { FleetError } from './errors.js';

/** The exit code of fleetd when its home is not safe to use (sysexits' EX_CONFIG). */
export const UNSAFE_HOME_EXIT = 78;

/**
 * Refuses a home another user could tamper with, as OpenSSH's StrictModes does: FLEET_HOME,
 * `token` and `config.json` must belong to the user fleetd runs as (or root) and must not
 * be writable by group or others. Otherwise that user could swap in its own token, or a
 * config that listens on every interface. A symlink is judged by what it points to.
 */
export function assertHomeIsPrivate(paths: HomePaths): void {
  const uid = process.geteuid?.();
  if (uid === undefined) return; // Windows: no owners or modes to check
  for (const [path, isDir] of [[paths.home, true], [paths.token, false], [paths.config, false]] as const) {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      continue; // absent: fleetd makes it, private
    }
    const fix = isDir ? `chmod 700 ${path}` : `chmod 600 ${path}`;
    if (st.uid !== uid && st.uid !== 0) {
      throw unsafe(`${path} belongs to uid ${st.uid}, not to uid ${uid} that fleetd runs as; another user could replace the token or the config. Fix: \`chown -R ${uid} ${paths.home}\` (as root) and \`${fix}\`, or use another --home`);
    }
    if (st.mode & 0o022) {
      const who = st.mode & 0o002 ? 'everyone' : 'its group';
      throw unsafe(`${path} is writable by ${who} (mode ${(st.mode & 0o777).toString(8)}); another user could replace the token or the config. Fix: \`${fix}\``);
    }
  }
}

/** The user fleetd runs as, by name when the system knows one. */
function owner(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid);
  }
}

function unsafe(message: string): FleetError {
  return new FleetError('unsafe_home', `refusing to start: ${message}`, 500);
}
