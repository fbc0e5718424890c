import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetctl, tempHome, type FleetdProcess } from '../../helpers/fleetd.js';
import type { McpTestClient } from '../../helpers/mcp.js';
import { sshMember, startFleetd, waitForMemberEvent } from '../../helpers/members.js';
import { Sshd } from '../../helpers/sshd.js';

type Report = { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };

let sshd: Sshd;
let fleetd: FleetdProcess;
let mcp: McpTestClient;
let userHome: string;
let env: Record<string, string>;

beforeAll(async () => {
  sshd = await Sshd.start();
  ({ fleetd, mcp } = await startFleetd());
  userHome = tempHome('fleet-doctor-user-');
  mkdirSync(join(userHome, 'run'), { mode: 0o700 });
  env = { HOME: userHome, XDG_CONFIG_HOME: '', XDG_RUNTIME_DIR: join(userHome, 'run') };
  expect((await mcp.raw('register_member', sshMember('box', sshd))).isError).toBeFalsy();
  await waitForMemberEvent(mcp, 'box', 'member.online');
}, 60_000);
afterAll(async () => {
  await mcp?.close().catch(() => undefined);
  await fleetd?.dispose();
  await sshd?.dispose();
  rmSync(userHome, { recursive: true, force: true });
});

const doctor = async (...args: string[]) => {
  const r = await fleetctl(['--home', fleetd.home, 'doctor', ...args], env);
  return { ...r, report: args.includes('--json') ? (JSON.parse(r.stdout) as Report) : undefined };
};

describe('fleetctl doctor', () => {
  it('passes on a healthy set-up (a missing service is a warning with its fix)', { timeout: 60_000 }, async () => {
    const r = await doctor('--json');
    expect(r.code).toBe(0);
    const by = Object.fromEntries(r.report!.checks.map((c) => [c.name, c]));
    expect(by.daemon).toMatchObject({ status: 'ok' });
    expect(by.token).toMatchObject({ status: 'ok' });
    expect(by['member box']).toMatchObject({ status: 'ok', detail: 'online' });
    expect(by.service).toMatchObject({ status: 'warn', fix: 'fleetctl service install' });
  });

  it('fails on a readable token and an offline member, with a fix for each', { timeout: 60_000 }, async () => {
    chmodSync(join(fleetd.home, 'token'), 0o644);
    await sshd.dispose();
    await waitForMemberEvent(mcp, 'box', 'member.offline', { timeoutMs: 20_000 });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ token: .*token is 0644.*\n {4}fix: chmod 600 '.*token'$/m);
    expect(r.stdout).toMatch(/^✗ member box: offline.*\n {4}fix: fleetctl members show box/m);
    chmodSync(join(fleetd.home, 'token'), 0o600);
  });

  it('fails with the start command when no daemon runs', { timeout: 60_000 }, async () => {
    const r = await fleetctl(['--home', join(userHome, 'no-fleet'), 'doctor'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ daemon: fleetd is not running on .*\n {4}fix: fleetctl --home .* service start/m);
  });
});

describe('fleetctl completion', () => {
  it('prints a shell script that asks fleetctl for completions, which knows the subcommands', async () => {
    const script = await fleetctl(['completion']);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('fleetctl --get-yargs-completions');
    const words = await fleetctl(['--get-yargs-completions', 'service', '']);
    expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['install', 'uninstall', 'start', 'stop', 'status', 'logs']));
  });
});
