import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LAUNCHD_LABEL, UNIT_NAME, type ServiceLayout } from './layout.js';

/** Who keeps fleetd running: the systemd user manager, launchd, or fleetctl's detached fallback. */
export type ManagerKind = 'systemd' | 'launchd' | 'process';

/** Result of running a service manager's command. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously; a missing binary is exit code 127. */
export function runTool(cmd: string, args: string[], inherit = false): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: inherit ? 'inherit' : 'pipe', timeout: 30_000 });
  if (r.error) return { code: 127, stdout: '', stderr: (r.error as Error).message };
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True when a systemd user manager answers (`systemctl --user` works), not merely installed. */
export function systemdUserAvailable(): boolean {
  return runTool('systemctl', ['--user', 'show-environment']).code === 0;
}

/** True on macOS, where launchctl manages LaunchAgents. */
export function launchdAvailable(): boolean {
  return process.platform === 'darwin';
}

/** The manager that runs fleetd for start/stop/status: an installed definition whose manager answers, else the fallback. */
export function activeManager(l: ServiceLayout): ManagerKind {
  if (existsSync(l.unitFile) && systemdUserAvailable()) return 'systemd';
  if (existsSync(l.plistFile) && launchdAvailable()) return 'launchd';
  return 'process';
}

const uid = (): number => process.getuid?.() ?? 0;
const launchdDomain = (): string => `gui/${uid()}`;
const launchdTarget = (): string => `${launchdDomain()}/${LAUNCHD_LABEL}`;

/** systemctl --user with fleetd's unit; throws with systemctl's message when it fails. */
export function systemctl(...args: string[]): Ran {
  const r = runTool('systemctl', ['--user', ...args]);
  if (r.code !== 0 && args[0] !== 'is-active' && args[0] !== 'is-enabled') throw new Error(`systemctl --user ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

/** Loads (or reloads) the LaunchAgent, which starts fleetd (RunAtLoad). */
export function launchdLoad(l: ServiceLayout): void {
  runTool('launchctl', ['bootout', launchdTarget()]);
  const r = runTool('launchctl', ['bootstrap', launchdDomain(), l.plistFile]);
  if (r.code !== 0) throw new Error(`launchctl bootstrap ${launchdDomain()} ${l.plistFile} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Unloads the LaunchAgent; launchd sends SIGTERM, so fleetd stops cleanly. */
export function launchdUnload(): void {
  runTool('launchctl', ['bootout', launchdTarget()]);
}

/** Starts (restart: kills and starts) the loaded LaunchAgent, loading it first when needed. */
export function launchdKickstart(l: ServiceLayout, restart: boolean): void {
  if (runTool('launchctl', ['print', launchdTarget()]).code !== 0) return launchdLoad(l);
  const r = runTool('launchctl', ['kickstart', ...(restart ? ['-k'] : []), launchdTarget()]);
  if (r.code !== 0) throw new Error(`launchctl kickstart ${launchdTarget()} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** `systemctl --user is-enabled` / launchctl print, as one word for status and doctor. */
export function enabledState(kind: ManagerKind): string {
  if (kind === 'systemd') return systemctl('is-enabled', UNIT_NAME).stdout.trim() || 'unknown';
  if (kind === 'launchd') return runTool('launchctl', ['print', launchdTarget()]).code === 0 ? 'loaded' : 'not loaded';
  return 'n/a';
}
