import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZombie } from '../../../daemon/fleetctl/service/detached.js';
import { isProcessAlive } from '../../../shared/discovery.js';
import { ROOT, fleetctl, tempHome } from '../../helpers/fleetd.js';
import { parsePlist } from '../../helpers/plist.js';

const run = promisify(execFile);
const ENTRY = join(ROOT, 'dist/daemon/main.js');

let userHome: string;
let runtimeDir: string;
let fleetHome: string;
/** A user whose HOME is a temporary folder and whose systemd user manager does not answer, so fleetctl falls back. */
let env: Record<string, string>;

beforeAll(() => {
  userHome = tempHome('fleet-svc-user-');
  runtimeDir = join(userHome, 'run');
  mkdirSync(runtimeDir, { mode: 0o700 });
  fleetHome = join(userHome, 'fleet home'); // a space, so quoting is exercised
  env = { HOME: userHome, XDG_CONFIG_HOME: '', XDG_RUNTIME_DIR: runtimeDir, DBUS_SESSION_BUS_ADDRESS: `unix:path=${runtimeDir}/none`, FLEET_HOME: fleetHome, FLEET_PORT: '0' };
});

afterAll(() => {
  for (const f of [join(fleetHome, 'fleetd.pid')]) {
    const pid = existsSync(f) ? Number(readFileSync(f, 'utf8')) : 0;
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(userHome, { recursive: true, force: true });
});

const ctl = (...args: string[]) => fleetctl(args, env);

/** `Key=value` lines of a unit, by section. */
function unitKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    if (/^\s*(#|;|$)/.test(line)) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) section = s[1]!;
    else {
      const [k, ...v] = line.split('=');
      const key = `${section}.${k}`;
      keys.set(key, [...(keys.get(key) ?? []), v.join('=')]);
    }
  }
  return keys;
}

describe('fleetctl service install', () => {
  it('writes a systemd user unit with this installation\'s absolute paths, which systemd-analyze verify accepts', async () => {
    const r = await ctl('service', 'install', '--systemd');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no systemd user manager answers here');
    const file = join(userHome, '.config/systemd/user/fleetd.service');
    const unit = readFileSync(file, 'utf8');
    const k = unitKeys(unit);
    expect(k.get('Service.ExecStart')).toEqual([`${process.execPath} ${ENTRY} --home "${fleetHome}"`]);
    expect(k.get('Service.Restart')).toEqual(['on-failure']);
    expect(k.get('Service.RestartPreventExitStatus')).toEqual(['2 3 4 78']);
    expect(k.get('Service.KillSignal')).toEqual(['SIGTERM']);
    expect(k.get('Service.NoNewPrivileges')).toEqual(['yes']);
    expect(k.get('Service.PrivateTmp')).toEqual(['yes']);
    expect(k.get('Service.Environment')).toContain(`"FLEET_HOME=${fleetHome}"`);
    expect(k.get('Install.WantedBy')).toEqual(['default.target']);
    expect(k.has('Unit.After')).toBe(false); // network-online.target means nothing to a user manager
    expect(unit).not.toMatch(/\{\{|\$\{|undefined|@@/);

    // systemd's own parser: unknown keys and a missing executable are reported on stderr.
    const v = await run('systemd-analyze', ['verify', '--user', file], { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } });
    expect(v.stderr).toBe('');
  });

  it('--socket writes fleetd.socket beside the unit (socket activation), which systemd-analyze verify accepts; a plain install removes it', async () => {
    const r = await ctl('service', 'install', '--systemd', '--socket', '127.0.0.1:17411', '--no-start');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dir = join(userHome, '.config/systemd/user');
    const socketFile = join(dir, 'fleetd.socket');
    const sk = unitKeys(readFileSync(socketFile, 'utf8'));
    expect(sk.get('Socket.ListenStream')).toEqual(['127.0.0.1:17411']);
    expect(sk.get('Install.WantedBy')).toEqual(['sockets.target']);
    const uk = unitKeys(readFileSync(join(dir, 'fleetd.service'), 'utf8'));
    expect(uk.get('Unit.Requires')).toEqual(['fleetd.socket']);
    const v = await run('systemd-analyze', ['verify', '--user', socketFile, join(dir, 'fleetd.service')], { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } });
    expect(v.stderr).toBe('');
    expect((await ctl('service', 'install', '--systemd', '--socket', 'nonsense', '--print')).code).toBe(2);
    expect((await ctl('service', 'install', '--systemd', '--socket', '--print')).stdout).toContain('ListenStream=127.0.0.1:7411');
    // Installed again without --socket: no socket unit left behind, no Requires on it.
    expect((await ctl('service', 'install', '--systemd', '--no-start')).code).toBe(0);
    expect(existsSync(socketFile)).toBe(false);
    expect(unitKeys(readFileSync(join(dir, 'fleetd.service'), 'utf8')).has('Unit.Requires')).toBe(false);
  });

  it('keeps PrivateTmp off when the ssh-agent socket given lives under /tmp, and passes it as SSH_AUTH_SOCK', async () => {
    const r = await ctl('service', 'install', '--systemd', '--print', '--agent-socket', '/tmp/ssh-x/agent.1');
    expect(r.code).toBe(0);
    const k = unitKeys(r.stdout);
    expect(k.get('Service.PrivateTmp')).toEqual(['no']);
    expect(k.get('Service.Environment')).toContain('"SSH_AUTH_SOCK=/tmp/ssh-x/agent.1"');
    const bad = await ctl('service', 'install', '--print', '--agent-socket', 'relative/sock');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--agent-socket must be an absolute path');
  });

  it('writes a well-formed LaunchAgent plist with the keys launchd needs', async () => {
    const r = await ctl('service', 'install', '--launchd');
    expect(r.code).toBe(0);
    const text = readFileSync(join(userHome, 'Library/LaunchAgents/dev.fleet.fleetd.plist'), 'utf8');
    const p = parsePlist(text) as Record<string, unknown>;
    expect(p.Label).toBe('dev.fleet.fleetd');
    expect(p.ProgramArguments).toEqual([process.execPath, ENTRY, '--home', fleetHome]);
    expect(p.RunAtLoad).toBe(true);
    expect(p.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(p.StandardErrorPath).toBe(join(fleetHome, 'logs/fleetd.log'));
    expect((p.EnvironmentVariables as Record<string, string>).FLEET_HOME).toBe(fleetHome);
    expect(text).not.toMatch(/\{\{|\$\{|undefined/);
  });
});

describe('fleetctl service start/stop/status without a service manager', () => {
  const serverPid = () => (JSON.parse(readFileSync(join(fleetHome, 'server.json'), 'utf8')) as { pid: number; url: string });

  it('starts a detached fleetd with a pid file, reports it, and stops it cleanly with SIGTERM', async () => {
    const started = await ctl('service', 'start');
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const { pid, url } = serverPid();
    expect(Number(readFileSync(join(fleetHome, 'fleetd.pid'), 'utf8'))).toBe(pid);
    expect(started.stdout).toContain(`pid ${pid}`);
    expect((await fetch(`${url}/health`)).ok).toBe(true);

    const again = await ctl('service', 'start');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already runs on ${fleetHome}: pid ${pid}`);

    const st = await ctl('service', 'status', '--json');
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ manager: 'process', running: true, pid, url });

    const logs = await ctl('service', 'logs', '-n', '50');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(url); // fleetd's start banner names where it listens

    const restarted = await ctl('service', 'restart');
    expect(restarted.code).toBe(0);
    const second = serverPid().pid;
    expect(second).not.toBe(pid);
    // Exited: gone, or a zombie nobody reaped yet (whether PID 1 reaps orphans depends on where the test runs).
    expect(isProcessAlive(pid) && !isZombie(pid)).toBe(false);

    const stopped = await ctl('service', 'stop');
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('stopped fleetd');
    expect(existsSync(join(fleetHome, 'server.json'))).toBe(false); // removed only on a clean exit
    expect(existsSync(join(fleetHome, 'fleetd.pid'))).toBe(false);
    expect(readFileSync(join(fleetHome, 'logs/fleetd.log'), 'utf8')).not.toMatch(/Error|exited with/);

    const down = await ctl('service', 'status');
    expect(down.code).toBe(3);
    expect(down.stdout).toContain('fleetd is not running');
  });

  it('uninstall removes both definitions', async () => {
    const r = await ctl('service', 'uninstall');
    expect(r.code).toBe(0);
    expect(existsSync(join(userHome, '.config/systemd/user/fleetd.service'))).toBe(false);
    expect(existsSync(join(userHome, 'Library/LaunchAgents/dev.fleet.fleetd.plist'))).toBe(false);
  });
});
