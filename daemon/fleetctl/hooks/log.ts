import { appendFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../../shared/home.js';

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * One line in FLEET_HOME/logs/hooks.log: a hook never speaks on stderr or fails the turn,
 * so this is where its troubles go. Rotated once past 1 MiB. Never holds a token or an event.
 */
export function hookLog(home: string, hook: string, line: string): void {
  try {
    const dir = join(home, 'logs');
    ensurePrivateDir(dir);
    const file = join(dir, 'hooks.log');
    try {
      if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
    } catch {
      // no log yet
    }
    appendFileSync(file, `${new Date().toISOString()} ${hook}: ${line.replace(/\s+/g, ' ').slice(0, 500)}\n`, { mode: 0o600 });
  } catch {
    // a log that cannot be written must not break the turn either
  }
}
