import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, KEEPALIVE_WINDOW_MS, LONG_TIMEOUT_S, sshMember, startFleetd, textOf, waitForMemberEvent, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

describe('member failures during work', () => {
  let a: Sshd;
  let b: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  // Members run on this machine, so a command can tell the test it has started by creating a file.
  const flags = mkdtempSync(join(tmpdir(), 'fleet-flags-'));
  const startedFlag = (name: string) => join(flags, name);

  beforeAll(async () => {
    [a, b] = await Promise.all([Sshd.start(), Sshd.start()]);
    ({ fleetd, mcp } = await startFleetd());
    await mcp.call('register_member', sshMember('alpha', a));
    await mcp.call('register_member', sshMember('beta', b));
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all([a?.dispose(), b?.dispose()]);
    rmSync(flags, { recursive: true, force: true });
  });

  it('a member that vanishes mid-command gets its own clear error; the others finish and the daemon keeps serving', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const flag = startedFlag('vanish');
    // Each command marks its start in a file named after its sshd's port.
    const command = `echo started; touch ${flag}-$(echo "$SSH_CONNECTION" | cut -d" " -f4); sleep 3; echo finished`;
    const call = mcp.call<{ results: MemberResult[] }>('execute_command', { members: ['alpha', 'beta'], command });
    await until("beta's command to start", () => existsSync(`${flag}-${b.port}`));
    await b.kill();
    const r = await call;
    expect(Date.now() - t0).toBeLessThan(10_000);
    const [alpha, beta] = r.results;
    expect(alpha).toMatchObject({ member: 'alpha', ok: true, exitCode: 0, stdout: 'started\nfinished\n' });
    expect(beta).toMatchObject({ member: 'beta', ok: false, error: { code: 'member_lost' } });
    expect(beta!.error!.message).toMatch(/lost the connection to member "beta" [\d.]+ s into the work.*may or may not have finished/);

    await waitForMemberEvent(mcp, 'beta', 'member.offline');
    const next = await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'alpha', command: 'echo serving' });
    expect(next.results[0]!.stdout).toBe('serving\n');
    const health = await fetch(`${fleetd.url}/health`);
    expect(health.status).toBe(200);
    await b.start();
    await waitForMemberEvent(mcp, 'beta', 'member.online', { count: 2 });
  });

  it('a dead link mid-command (a long one, on its own channel) ends it with an error after the keepalive window, not a hang', { timeout: 60_000 }, async () => {
    const flag = startedFlag('dead-link');
    const call = mcp.raw('execute_command', { member: 'alpha', command: `touch ${flag}; sleep 20`, timeout_s: LONG_TIMEOUT_S });
    await until("alpha's command to start", () => existsSync(flag));
    const t0 = Date.now();
    a.freeze(true);
    try {
      const r = await call;
      const took = Date.now() - t0;
      expect(r.isError).toBe(true); // the only member failed
      expect(textOf(r)).toMatch(/alpha: ✗ member_lost: lost the connection to member "alpha".*keepalive/s);
      expect(took).toBeLessThan(KEEPALIVE_WINDOW_MS + 4000);
    } finally {
      a.freeze(false);
    }
    await waitForMemberEvent(mcp, 'alpha', 'member.online', { count: 2 });
  });

  it('a member whose shell start-up hangs fails commands with a clear error after sessionStartTimeout, not a hang', { timeout: 60_000 }, async () => {
    // BASH_ENV is read by the non-interactive bash sshd starts for each session: a stuck start-up file.
    const stuckRc = join(flags, 'stuck-rc');
    writeFileSync(stuckRc, 'sleep 30\n');
    const stuck = await Sshd.start({ env: { BASH_ENV: stuckRc } });
    try {
      const reg = await mcp.call<{ member: { state: string } }>('register_member', sshMember('stuck', stuck));
      expect(reg.member.state).toBe('online'); // the connection is fine; only sessions hang
      const t0 = Date.now();
      const r = await mcp.raw('execute_command', { members: ['stuck', 'alpha'], command: 'echo hi' });
      expect(Date.now() - t0).toBeLessThan(FAST_MEMBERS.sessionStartTimeout * 1000 + 4000);
      const [stuckResult, alpha] = (r.structuredContent as { results: MemberResult[] }).results;
      expect(alpha).toMatchObject({ member: 'alpha', ok: true, stdout: 'hi\n' });
      expect(stuckResult!.error!.message).toBe(`member "stuck": cannot open a shell channel on the member: the member's shell did not start within ${FAST_MEMBERS.sessionStartTimeout} s`);
    } finally {
      await mcp.raw('remove_member', { name: 'stuck' });
      await stuck.dispose();
    }
  });

  it('an unknown member is a clear error that lists the known ones, over MCP and REST', { timeout: 30_000 }, async () => {
    const r = await mcp.raw('execute_command', { member: 'gamma', command: 'true' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('no member named "gamma"; known members: alpha, beta');
    const several = await mcp.raw('execute_command', { members: ['alpha', 'gamma', 'delta'], command: 'true' });
    expect(textOf(several)).toBe('no members named "gamma", "delta"; known members: alpha, beta');
    const detail = await mcp.raw('member_detail', { name: 'gamma' });
    expect(textOf(detail)).toContain('known members: alpha, beta');
    const rest = await fleetd.fetch('/members/gamma');
    expect(rest.status).toBe(404);
    expect(await rest.json()).toEqual({ error: { code: 'unknown_member', message: 'no member named "gamma"; known members: alpha, beta' } });
    const neither = await mcp.raw('execute_command', { command: 'true' });
    expect(textOf(neither)).toContain('say where to run');
  });

  it('names are validated and unique regardless of case', { timeout: 30_000 }, async () => {
    for (const name of ['all', 'ALL', '-x', 'a b', 'x'.repeat(64), '../etc']) {
      const r = await mcp.raw('register_member', sshMember(name, a));
      expect(r.isError, name).toBe(true);
    }
    const dup = await mcp.raw('register_member', sshMember('ALPHA', a));
    expect(textOf(dup)).toContain('a member named "ALPHA" already exists');
    const res = await fleetd.fetch('/members', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bad name', host: 'x' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('member names are');
  });
});
