import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive, readServerInfo } from '../shared/discovery.js';
import { ensurePrivateDir, homePaths } from '../shared/home.js';
import { BridgeError } from './errors.js';
import { httpRequest, readText } from './http-client.js';
import type { Log } from './log.js';

/** fleetd's entry point in this package's dist (the bridge runs from dist/bridge/). */
const FLEETD_SCRIPT = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
/** fleetd's exit code when another daemon already holds the home: someone else won the race. */
const ALREADY_RUNNING = 3;

/**
 * Starts fleetd on `home`, detached so it outlives the bridge (stdio to
 * FLEET_HOME/logs/fleetd.log), and waits until server.json names a live daemon whose
 * /health answers. Two bridges racing are fine: fleetd's lock lets one win, and both wait
 * for whichever announced itself.
 */
export async function startFleetd(home: string, log: Log, timeoutMs: number): Promise<void> {
  if (!existsSync(FLEETD_SCRIPT)) throw new BridgeError('not_running', `--autostart cannot find fleetd at ${FLEETD_SCRIPT}; run \`npm run build\` or start fleetd yourself`);
  const paths = homePaths(home);
  ensurePrivateDir(home);
  ensurePrivateDir(paths.logs);
  const logFile = join(paths.logs, 'fleetd.log');
  const fd = openSync(logFile, 'a', 0o600);
  let exitCode: number | null | undefined;
  try {
    const child = spawn(process.execPath, [FLEETD_SCRIPT, '--home', home], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    child.once('exit', (code) => (exitCode = code));
    child.once('error', () => (exitCode = -1));
    child.unref();
    log.debug(`started fleetd (pid ${child.pid}) on ${home}; its log: ${logFile}`);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined && exitCode !== ALREADY_RUNNING && exitCode !== 0) {
      throw new BridgeError('not_running', `--autostart: fleetd exited with code ${exitCode} before it was ready; see ${logFile}`);
    }
    const info = readServerInfo(home);
    if (info && isProcessAlive(info.pid) && (await healthy(info.url))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new BridgeError('not_running', `--autostart: fleetd did not become healthy within ${Math.round(timeoutMs / 1000)} s; see ${logFile}`);
}

/** True when GET /health answers 200 (it needs no token). */
export async function healthy(url: string): Promise<boolean> {
  try {
    const res = await httpRequest(`${url}/health`, { method: 'GET', headers: {}, idleTimeoutMs: 1000 });
    await readText(res.body);
    return res.status === 200;
  } catch {
    return false;
  }
}
