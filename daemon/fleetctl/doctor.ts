import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { ClientError, DaemonClient, discover } from '../../shared/client.js';
import { isProcessAlive, readServerInfo } from '../../shared/discovery.js';
import { homePaths, resolveHome } from '../../shared/home.js';
import { serviceLayout } from './service/layout.js';
import { enabledState, systemdUserAvailable } from './service/managers.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type Run = (fn: () => Promise<void>) => Promise<void>;

/** One finding: ok, a warning (worth knowing, not wrong), or a failure with the fix. */
interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const DEFAULT_PORT = 7411;

/** Mode and owner of a path that must not be open to others (as fleetd's own home check). */
function privateFile(name: string, path: string, want: number, fix: string): Check {
  if (!existsSync(path)) return { name, status: 'warn', detail: `${path} does not exist yet (fleetd makes it on start)` };
  const st = statSync(path);
  const mode = st.mode & 0o777;
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && st.uid !== uid) return { name, status: 'fail', detail: `${path} belongs to uid ${st.uid}, not you (${uid})`, fix: `chown ${uid} '${path}'` };
  if (mode & ~want) return { name, status: 'fail', detail: `${path} is ${mode.toString(8).padStart(4, '0')}; others could read or change it`, fix: `${fix} '${path}'` };
  return { name, status: 'ok', detail: `${path} ${mode.toString(8).padStart(4, '0')}` };
}

/** True when an executable named `name` is on PATH. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

async function runChecks(argv: Global): Promise<Check[]> {
  const home = resolveHome(argv.home);
  const paths = homePaths(home);
  const checks: Check[] = [];
  const info = readServerInfo(home);
  const alive = !!info && isProcessAlive(info.pid);
  let reachable = false;
  if (argv.url || process.env.FLEET_URL || alive) {
    try {
      const { url } = discover({ home, url: argv.url, tokenFile: argv['token-file'] });
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
      reachable = res.ok;
      checks.push(res.ok ? { name: 'daemon', status: 'ok', detail: `fleetd answers at ${url}${info ? ` (pid ${info.pid})` : ''}` } : { name: 'daemon', status: 'fail', detail: `${url}/health answered ${res.status}`, fix: 'fleetctl service restart' });
    } catch (e) {
      checks.push({ name: 'daemon', status: 'fail', detail: `fleetd does not answer: ${(e as Error).message}`, fix: `fleetctl service restart, then fleetctl service logs` });
    }
  } else {
    checks.push({ name: 'daemon', status: 'fail', detail: `fleetd is not running on ${home}${info ? ` (server.json names pid ${info.pid}, which is gone)` : ''}`, fix: `fleetctl${argv.home ? ` --home ${home}` : ''} service start (or fleetctl service install to keep it always on)` });
  }
  if (alive && info) {
    checks.push(
      info.port === DEFAULT_PORT || process.env.FLEET_PORT
        ? { name: 'port', status: 'ok', detail: `${info.port}` }
        : { name: 'port', status: 'warn', detail: `fleetd listens on ${info.port}, not ${DEFAULT_PORT} (taken, or set in config): clients configured with ${DEFAULT_PORT} miss it`, fix: 'fleetctl mcp-config --write .mcp.json (writes the real port)' },
    );
  }
  checks.push(privateFile('home', home, 0o700, 'chmod 700'));
  if (!process.env.FLEET_TOKEN) checks.push(privateFile('token', paths.token, 0o600, 'chmod 600'));
  if (existsSync(paths.config)) checks.push(privateFile('config.json', paths.config, 0o600, 'chmod 600'));

  const l = serviceLayout(home);
  const unit = existsSync(l.unitFile) ? l.unitFile : existsSync(l.plistFile) ? l.plistFile : undefined;
  if (!unit) checks.push({ name: 'service', status: 'warn', detail: 'no service definition: fleetd stops with your session', fix: 'fleetctl service install' });
  else {
    const enabled = unit === l.unitFile && systemdUserAvailable() ? enabledState('systemd') : undefined;
    checks.push(
      enabled !== undefined && enabled !== 'enabled'
        ? { name: 'service', status: 'fail', detail: `${unit} is installed but ${enabled}`, fix: 'systemctl --user enable --now fleetd' }
        : { name: 'service', status: 'ok', detail: `${unit}${enabled ? ' (enabled)' : ''}` },
    );
    const text = readFileSync(unit, 'utf8');
    const node = unit === l.unitFile ? /^ExecStart=("?)([^\s"]+)\1/m.exec(text)?.[2] : /<key>ProgramArguments<\/key>\s*<array>\s*<string>([^<]+)<\/string>/.exec(text)?.[1];
    const entry = unit === l.unitFile ? /^ExecStart=\S+\s+("?)([^\s"]+)\1/m.exec(text)?.[2] : undefined;
    const missing = [node, entry].filter((p): p is string => !!p && !existsSync(p));
    checks.push(
      missing.length
        ? { name: 'service paths', status: 'fail', detail: `the service starts ${missing.join(' and ')}, which no longer exist${missing.length > 1 ? '' : 's'} (node or fleet moved)`, fix: 'fleetctl service install (renders it again for this installation)' }
        : { name: 'service paths', status: 'ok', detail: `node ${node ?? '?'}` },
    );
  }
  const nodeOnPath = onPath('node');
  checks.push(nodeOnPath ? { name: 'node on PATH', status: 'ok', detail: nodeOnPath } : { name: 'node on PATH', status: 'warn', detail: 'no node on PATH (the service does not need it: it names node by absolute path)', fix: `add ${process.execPath.replace(/\/node$/, '')} to PATH` });

  if (reachable) {
    try {
      const client = new DaemonClient(() => discover({ home, url: argv.url, tokenFile: argv['token-file'] }), home);
      const { members } = await client.request<{ members: { name: string; state: string; lastError?: string | { message?: string } }[] }>('GET', '/members');
      for (const m of members) {
        const err = typeof m.lastError === 'string' ? m.lastError : m.lastError?.message;
        checks.push(m.state === 'online' ? { name: `member ${m.name}`, status: 'ok', detail: 'online' } : { name: `member ${m.name}`, status: 'fail', detail: `${m.state}${err ? `: ${err}` : ''}`, fix: `fleetctl members show ${m.name}; check that its sshd runs and the address is right (fleetctl members update ${m.name} ...)` });
      }
      if (!members.length) checks.push({ name: 'members', status: 'warn', detail: 'no members yet', fix: 'fleetctl members add NAME --host HOST' });
    } catch (e) {
      checks.push({ name: 'members', status: 'fail', detail: (e as Error).message, fix: e instanceof ClientError && e.status === 401 ? `the token does not match the daemon's: check FLEET_TOKEN or ${paths.token}` : 'fleetctl service logs' });
    }
  }
  return checks;
}

/** `fleetctl doctor`: what is wrong with this fleet set-up, and the command that fixes each. */
export function doctorCommand(run: Run): CommandModule<Global, Global> {
  return {
    command: 'doctor',
    describe: 'check the daemon, its port, file permissions, the service and every member; a fix for each problem; exit 1 if any',
    builder: (y) => y.option('json', { type: 'boolean', default: false }),
    handler: (raw) =>
      run(async () => {
        const argv = raw as unknown as Global & { json: boolean };
        const checks = await runChecks(argv);
        if (argv.json) process.stdout.write(`${JSON.stringify({ ok: !checks.some((c) => c.status === 'fail'), checks })}\n`);
        else
          for (const c of checks) {
            process.stdout.write(`${c.status === 'ok' ? '✓' : c.status === 'warn' ? '!' : '✗'} ${c.name}: ${c.detail}\n`);
            if (c.fix && c.status !== 'ok') process.stdout.write(`    fix: ${c.fix}\n`);
          }
        if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
      }),
  };
}
