import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../../shared/cli-usage.js';
import { ensurePrivateDir, homePaths, resolveHome } from '../../../shared/home.js';
import { pidFromFile, runningDaemon, startDetached, stopDetached } from './detached.js';
import { renderLaunchdPlist } from './launchd-plist.js';
import { SOCKET_UNIT_NAME, UNIT_NAME, serviceLayout, type ServiceLayout } from './layout.js';
import { showLogs } from './logs.js';
import { activeManager, enabledState, launchdAvailable, launchdKickstart, launchdLoad, launchdUnload, systemctl, systemdUserAvailable, type ManagerKind } from './managers.js';
import { renderSystemdSocket, renderSystemdUnit } from './systemd-unit.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type Run = (fn: () => Promise<void>) => Promise<void>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** The definition `install` writes: --systemd, --launchd, or this platform's own. */
function chosenKind(argv: { systemd?: boolean; launchd?: boolean }): 'systemd' | 'launchd' {
  if (argv.systemd && argv.launchd) throw new UsageError('give --systemd or --launchd, not both');
  if (argv.systemd) return 'systemd';
  if (argv.launchd) return 'launchd';
  return process.platform === 'darwin' ? 'launchd' : 'systemd';
}

/** fleetd's default port (daemon.ts DEFAULT_PORT; not imported, which would load the daemon into fleetctl). */
const DEFAULT_PORT = 7411;

/** `--socket [HOST:]PORT` as a ListenStream= value (127.0.0.1:7411 when given bare). */
function listenOf(socket: string | undefined): string | undefined {
  if (socket === undefined) return undefined;
  const v = socket === '' ? `127.0.0.1:${DEFAULT_PORT}` : /^\d+$/.test(socket) ? `127.0.0.1:${socket}` : socket;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--socket takes PORT or IP:PORT (e.g. 7411, 127.0.0.1:7411, [::1]:7411), not "${socket.slice(0, 80)}"`);
  return v;
}

function layoutOf(argv: Global & { 'agent-socket'?: string; socket?: string }): ServiceLayout {
  const sock = argv['agent-socket'];
  if (sock !== undefined && !sock.startsWith('/')) throw new UsageError(`--agent-socket must be an absolute path to an ssh-agent socket, not "${sock.slice(0, 80)}"`);
  return serviceLayout(resolveHome(argv.home), sock, listenOf(argv.socket));
}

async function install(argv: Global & { systemd?: boolean; launchd?: boolean; print: boolean; start: boolean; 'agent-socket'?: string; socket?: string }): Promise<void> {
  const kind = chosenKind(argv);
  const l = layoutOf(argv);
  if (l.listen && kind !== 'systemd') throw new UsageError('--socket (socket activation) is for systemd only');
  const text = kind === 'systemd' ? renderSystemdUnit(l) : renderLaunchdPlist(l);
  if (argv.print) return void process.stdout.write(l.listen ? `${text}\n# ${SOCKET_UNIT_NAME}\n${renderSystemdSocket(l)}` : text);
  const file = kind === 'systemd' ? l.unitFile : l.plistFile;
  ensurePrivateDir(l.home);
  ensurePrivateDir(homePaths(l.home).logs);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode: 0o644 });
  out(`wrote ${file}`);
  if (l.listen) {
    writeFileSync(l.socketFile, renderSystemdSocket(l), { mode: 0o644 });
    out(`wrote ${l.socketFile} (systemd listens on ${l.listen} and passes it to fleetd)`);
  } else if (kind === 'systemd' && existsSync(l.socketFile)) {
    if (systemdUserAvailable()) systemctl('disable', '--now', SOCKET_UNIT_NAME);
    rmSync(l.socketFile);
    out(`removed ${l.socketFile} (installed without --socket)`);
  }
  out(`  runs ${l.node} ${l.entry} --home ${l.home}`);
  const manual = runningDaemon(l.home);
  if (kind === 'systemd' && systemdUserAvailable()) {
    systemctl('daemon-reload');
    if (argv.start && manual) {
      out(`stopping fleetd pid ${manual.pid}, started outside systemd, so that systemd's takes the home`);
      await stopDetached(l);
    }
    if (l.listen) systemctl('enable', ...(argv.start ? ['--now'] : []), SOCKET_UNIT_NAME);
    systemctl('enable', ...(argv.start ? ['--now'] : []), UNIT_NAME);
    out(`enabled ${UNIT_NAME}${argv.start ? ' and started it' : ''} (systemctl --user status fleetd; fleetctl service logs)`);
    out('  so systemd starts it at boot without a login: loginctl enable-linger $USER');
  } else if (kind === 'launchd' && launchdAvailable()) {
    if (argv.start && manual) await stopDetached(l);
    if (argv.start) launchdLoad(l);
    out(argv.start ? `loaded ${file}; launchd starts fleetd at login and after a failure (log: ${l.logFile})` : `launchctl bootstrap gui/$(id -u) ${file} starts it`);
  } else {
    out(`no ${kind === 'systemd' ? 'systemd user manager answers here (systemctl --user)' : 'launchd on this system'}, so it is not enabled;`);
    out(`  \`fleetctl service start\` runs fleetd as a detached process instead (pid file ${l.pidFile}, log ${l.logFile})`);
  }
}

async function uninstall(argv: Global): Promise<void> {
  const l = layoutOf(argv);
  let removed = 0;
  if (existsSync(l.socketFile)) {
    if (systemdUserAvailable()) systemctl('disable', '--now', SOCKET_UNIT_NAME);
    rmSync(l.socketFile);
    out(`removed ${l.socketFile}`);
    removed++;
  }
  if (existsSync(l.unitFile)) {
    if (systemdUserAvailable()) systemctl('disable', '--now', UNIT_NAME);
    rmSync(l.unitFile);
    if (systemdUserAvailable()) systemctl('daemon-reload');
    out(`removed ${l.unitFile}`);
    removed++;
  }
  if (existsSync(l.plistFile)) {
    if (launchdAvailable()) launchdUnload();
    rmSync(l.plistFile);
    out(`removed ${l.plistFile}`);
    removed++;
  }
  if (pidFromFile(l) !== undefined && (await stopDetached(l))) out('stopped the detached fleetd');
  if (!removed) out(`no fleetd service is installed (looked for ${l.unitFile} and ${l.plistFile})`);
}

async function control(argv: Global, action: 'start' | 'stop' | 'restart'): Promise<void> {
  const l = layoutOf(argv);
  const kind = activeManager(l);
  if (kind === 'systemd') {
    systemctl(action, UNIT_NAME);
    return out(`${action === 'stop' ? 'stopped' : action === 'start' ? 'started' : 'restarted'} ${UNIT_NAME} (systemd)`);
  }
  if (kind === 'launchd') {
    if (action === 'stop') launchdUnload();
    else launchdKickstart(l, action === 'restart');
    return out(`${action === 'stop' ? 'stopped' : action === 'start' ? 'started' : 'restarted'} fleetd (launchd)`);
  }
  if (action !== 'start') {
    const stopped = await stopDetached(l);
    out(stopped ? `stopped fleetd on ${l.home}` : `fleetd was not running on ${l.home}`);
    if (action === 'stop') return;
  }
  const before = runningDaemon(l.home);
  const info = await startDetached(l);
  out(before ? `fleetd already runs on ${l.home}: pid ${info.pid}, ${info.url}` : `started fleetd on ${l.home}: pid ${info.pid}, ${info.url} (log ${l.logFile})`);
}

/** What `service status` reports, also used by doctor. */
export function serviceState(l: ServiceLayout): { manager: ManagerKind; installed: string[]; enabled: string; running: boolean; pid?: number; url?: string } {
  const manager = activeManager(l);
  const installed = [l.unitFile, l.plistFile].filter((f) => existsSync(f));
  const d = runningDaemon(l.home);
  return { manager, installed, enabled: enabledState(manager), running: !!d, ...(d ? { pid: d.pid, url: d.url } : {}) };
}

async function status(argv: Global & { json: boolean }): Promise<void> {
  const l = layoutOf(argv);
  const s = serviceState(l);
  if (argv.json) out(JSON.stringify({ home: l.home, ...s }));
  else {
    out(s.running ? `fleetd is running on ${l.home}: pid ${s.pid}, ${s.url}` : `fleetd is not running on ${l.home}`);
    out(`  managed by:  ${s.manager === 'process' ? 'fleetctl (detached process, pid file)' : s.manager}`);
    out(`  installed:   ${s.installed.join(', ') || 'no service definition (fleetctl service install)'}`);
    if (s.manager !== 'process') out(`  enabled:     ${s.enabled}`);
    out(`  log:         ${s.manager === 'systemd' ? `journalctl --user -u ${UNIT_NAME}` : l.logFile}`);
  }
  if (!s.running) process.exitCode = 3;
}

/** `fleetctl service install|uninstall|start|stop|restart|status|logs`. */
export function serviceCommand(run: Run): CommandModule<Global, Global> {
  const plain = (name: string, describe: string, fn: (argv: Global) => Promise<void>): CommandModule<Global, Global> => ({ command: name, describe, handler: (argv) => run(() => fn(argv)) });
  return {
    command: 'service <command>',
    describe: 'run fleetd always on: systemd user unit, LaunchAgent, or a detached process',
    builder: (y: Argv<Global>) =>
      y
        .command(
          'install',
          'write the unit (systemd) or plist (launchd) for this installation, enable and start it',
          (c) =>
            c
              .option('systemd', { type: 'boolean', describe: 'a systemd user unit (default on Linux)' })
              .option('launchd', { type: 'boolean', describe: 'a LaunchAgent plist (default on macOS)' })
              .option('agent-socket', { type: 'string', requiresArg: true, describe: 'fixed ssh-agent socket to give fleetd as SSH_AUTH_SOCK' })
              .option('socket', { type: 'string', describe: 'systemd socket activation: also write fleetd.socket listening on [IP:]PORT (bare: 127.0.0.1:7411), so clients wait through restarts' })
              .option('print', { type: 'boolean', default: false, describe: 'print the definition instead of installing it' })
              .option('start', { type: 'boolean', default: true, describe: 'start it now (--no-start: only enable)' }),
          (argv) => run(() => install(argv)),
        )
        .command(plain('uninstall', 'stop fleetd and remove the service definition', uninstall))
        .command(plain('start', 'start fleetd (through the installed service, else detached with a pid file)', (a) => control(a, 'start')))
        .command(plain('stop', 'stop fleetd cleanly (SIGTERM)', (a) => control(a, 'stop')))
        .command(plain('restart', 'stop, then start fleetd', (a) => control(a, 'restart')))
        .command('status', 'is fleetd running, and who manages it (exit 3 when not running)', (c) => c.option('json', { type: 'boolean', default: false }), (argv) => run(() => status(argv)))
        .command(
          'logs',
          "fleetd's log: the journal under systemd, else FLEET_HOME/logs/fleetd.log",
          (c) => c.option('lines', { alias: 'n', type: 'number', default: 100, describe: 'how many of the last lines' }).option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing new lines' }),
          (argv) => run(() => showLogs(activeManager(layoutOf(argv)), layoutOf(argv), argv.lines, argv.follow)),
        )
        .demandCommand(1, 'name a service command: install, uninstall, start, stop, restart, status or logs'),
    handler: () => undefined,
  };
}
