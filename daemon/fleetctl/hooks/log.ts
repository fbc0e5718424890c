import { closeSync, constants, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirBelow } from '../../../shared/home.js';

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * One line in FLEET_HOME/logs/hooks.log: a hook never speaks on stderr or fails the turn,
 * so this is where its troubles go. Rotated once past 1 MiB. Never holds a token or an event.
 */
export function hookLog(home: string, hook: string, line: string): void {
  try {
    const dir = ensurePrivateDirBelow(home, 'logs');
    const file = join(dir, 'hooks.log');
    try {
      if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
    } catch {
      // no log yet
    }
    // Never through a symlink planted at the log's name; control characters (a session id's, say) are not written for a terminal to obey.
    // eslint-disable-next-line no-control-regex
    const text = `${new Date().toISOString()} ${hook}: ${line.replace(/\s+/g, ' ').slice(0, 500)}`.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
    const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, `${text}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    // a log that cannot be written must not break the turn either
  }
}
