import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/net.js';
import { BRIDGE, FLEETD, FleetdProcess, fleetctl, tempHome } from '../../helpers/fleetd.js';

let d: FleetdProcess;
const homes: string[] = [];

beforeAll(async () => {
  d = await new FleetdProcess().start();
});

afterAll(async () => {
  await d?.dispose();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function emptyHome(): string {
  const h = tempHome();
  homes.push(h);
  return h;
}

function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A usage error: exit 2, the tool's own words first, no stack, no yargs help dump or raw values. */
function expectUsage(r: { code: number | null; stdout: string; stderr: string }, tool: string, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const first = r.stderr.split('\n')[0]!;
  if (typeof message === 'string') expect(first).toBe(`${tool}: ${message}`);
  else expect(first).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at |NaN|Options:|Show help|Unknown argument/);
}

describe('fleetctl says what was wrong with its own flags (exit 2)', () => {
  const ctl = (...args: string[]) => run(join(FLEETD, '../fleetctl/main.js'), ['--home', d.home, ...args]);

  it('--limit that is not a number, or more than a page allows', async () => {
    expectUsage(await ctl('events', '--limit', 'abc'), 'fleetctl', '--limit must be a whole number from 1 to 10000, not "abc"');
    expectUsage(await ctl('events', '--limit', '20000'), 'fleetctl', '--limit must be a whole number from 1 to 10000, not "20000"');
    expectUsage(await ctl('events', '--limit', '0'), 'fleetctl', '--limit must be a whole number from 1 to 10000, not "0"');
  });

  it('--since with a minus sign, or none at all', async () => {
    for (const args of [['--since', '-5m'], ['--since=-5m']]) {
      expectUsage(await ctl('events', ...args), 'fleetctl', /^fleetctl: --since "-5m" is not accepted: give an event id .* duration \(90s, 10m, 2h, 7d; no minus sign\)$/);
    }
    expectUsage(await ctl('events', '--since'), 'fleetctl', '--since needs a value');
  });

  it('unknown options, bad --data, bad --port for a member, no command', async () => {
    expectUsage(await ctl('events', '--bogus'), 'fleetctl', 'unknown option or argument: --bogus');
    expectUsage(await ctl('publish', 'a.b', 'msg', '--data', '[1]'), 'fleetctl', `--data must be a JSON object, e.g. '{"sha":"abc"}'`);
    expectUsage(await ctl('members', 'add', 'web', '--host', '127.0.0.1', '--port', 'abc'), 'fleetctl', '--port must be a port number 1-65535, not "abc"');
    expectUsage(await ctl(), 'fleetctl', 'name a command: events, publish, status, members, secret, tasks, ci, exec, cp, service, mcp-config, doctor, completion, hooks or hook');
  });

  it('--token-file that is missing, a folder or empty is named', async () => {
    const h = emptyHome();
    const empty = join(h, 'empty-token');
    writeFileSync(empty, '\n');
    for (const [file, why] of [[join(h, 'nope'), 'no such file'], [h, 'it is a directory']]) {
      const r = await ctl('status', '--token-file', file);
      expectUsage(r, 'fleetctl', `cannot read the token file ${file} (--token-file): ${why}`);
    }
    expectUsage(await ctl('status', '--token-file', empty), 'fleetctl', `the token file ${empty} (--token-file) is empty; it should hold the bearer token from FLEET_HOME/token`);
  });

  it("rephrases the daemon's tool words as fleetctl flags and commands", async () => {
    const noHost = await ctl('members', 'add', 'web');
    expect(noHost.code).toBe(1);
    expect(noHost.stderr).toBe('fleetctl: host is required for an ssh member (or use --local for this machine)\n');
    expect((await ctl('members', 'add', 'here', '--local')).code).toBe(0);
    const twice = await ctl('members', 'add', 'here', '--local');
    expect(twice.stderr).toContain('change it with `fleetctl members update` or remove it first');
    expect(twice.stderr).not.toMatch(/update_member|identity_file|kind "local"/);
  });
});

describe('fleetctl finds the daemon through FLEET_URL and FLEET_TOKEN', () => {
  it('status, events and publish work from a home with no server.json', async () => {
    const env = { FLEET_URL: d.url, FLEET_TOKEN: d.token };
    const h = emptyHome();
    const status = await fleetctl(['--home', h, 'status', '--json'], env);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pid: d.proc.pid, url: d.url });
    const pub = await fleetctl(['--home', h, 'publish', 'url.env', 'via FLEET_URL', '--json'], env);
    expect(pub.code).toBe(0);
    const events = await fleetctl(['--home', h, 'events', '--since', '0', '--topic', 'url.env', '--json'], env);
    expect(events.stdout.trim().split('\n').map((l) => JSON.parse(l).message)).toEqual(['via FLEET_URL']);
  });

  it('a FLEET_URL where nothing listens says so and names FLEET_URL', async () => {
    const port = await freePort();
    const r = await fleetctl(['--home', emptyHome(), 'status'], { FLEET_URL: `http://127.0.0.1:${port}`, FLEET_TOKEN: 'x' });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`fleetctl: fleetd is not reachable at http://127.0.0.1:${port} (ECONNREFUSED); check FLEET_URL, or start fleetd there\n`);
  });
});

describe('fleetd and fleet-bridge flags', () => {
  it('fleetd --port that is not a port', async () => {
    for (const port of ['abc', '70000', '-1']) {
      expectUsage(await run(FLEETD, ['--home', emptyHome(), '--port', port]), 'fleetd', `--port must be a port number 0-65535, not "${port}"`);
    }
    expectUsage(await run(FLEETD, ['--home', emptyHome(), '--bogus']), 'fleetd', 'unknown option or argument: --bogus');
  });

  it('fleet-bridge --token-file that is missing is named at start', async () => {
    const file = join(emptyHome(), 'nope');
    const r = await run(BRIDGE, ['--url', d.url, '--token-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fleet-bridge: cannot read the token file ${file} (--token-file): no such file`);
  });
});
