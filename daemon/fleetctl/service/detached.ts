import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { isProcessAlive, readServerInfo, type ServerInfo } from '../../../shared/discovery.js';
import { ensurePrivateDir, homePaths, writePrivateFile } from '../../../shared/home.js';
import type { ServiceLayout } from './layout.js';

/** fleetd's exit code when another daemon holds the home. */
const ALREADY_RUNNING = 3;

/** The daemon that server.json names, when its process is alive. */
export function runningDaemon(home: string): ServerInfo | undefined {
  const info = readServerInfo(home);
  return info && isProcessAlive(info.pid) ? info : undefined;
}

/** The pid in the fallback's pid file, when that process is alive. */
export function pidFromFile(l: ServiceLayout): number | undefined {
  try {
    const pid = Number(readFileSync(l.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Starts fleetd detached from this terminal (its own session, stdio to the log file), records
 * its pid, and waits until server.json names it and /health answers.
 */
export async function startDetached(l: ServiceLayout, timeoutMs = 20_000): Promise<ServerInfo> {
  const already = runningDaemon(l.home);
  if (already) return already;
  ensurePrivateDir(l.home);
  ensurePrivateDir(homePaths(l.home).logs);
  const fd = openSync(l.logFile, 'a', 0o600);
  let exitCode: number | null | undefined;
  let pid: number | undefined;
  try {
    const env = { ...process.env, PATH: `${l.path}:${process.env.PATH ?? ''}`, FLEET_HOME: l.home, ...(l.agentSocket ? { SSH_AUTH_SOCK: l.agentSocket } : {}) };
    const child = spawn(l.node, [l.entry, '--home', l.home], { detached: true, stdio: ['ignore', fd, fd], env, cwd: l.home });
    child.once('exit', (code) => (exitCode = code));
    child.once('error', () => (exitCode = -1));
    child.unref();
    pid = child.pid;
    if (pid) writePrivateFile(l.pidFile, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined && exitCode !== ALREADY_RUNNING) {
      rmSync(l.pidFile, { force: true });
      throw new Error(`fleetd exited with code ${exitCode} before it was ready; see ${l.logFile}`);
    }
    const info = runningDaemon(l.home);
    if (info && (await healthy(info.url))) return info;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`fleetd (pid ${pid}) did not become healthy within ${Math.round(timeoutMs / 1000)} s; see ${l.logFile}`);
}

/** Sends SIGTERM to the running fleetd (clean stop) and waits for it to exit; false when none ran. */
export async function stopDetached(l: ServiceLayout, timeoutMs = 20_000): Promise<boolean> {
  const pid = runningDaemon(l.home)?.pid ?? pidFromFile(l);
  rmSync(l.pidFile, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && !isZombie(pid)) {
    if (Date.now() > deadline) throw new Error(`fleetd (pid ${pid}) did not stop within ${Math.round(timeoutMs / 1000)} s of SIGTERM; kill -9 ${pid} ends it (its log: ${l.logFile})`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** True when the process has exited but was not reaped yet (its parent is gone and PID 1 may not reap). */
export function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
