import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { LONG_TIMEOUT_S, sshMember, startFleetd, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

/** Gone from /proc, or a zombie waiting for a parent to reap it (dead either way). */
function processGone(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
  } catch {
    return true;
  }
}

/** Live processes whose command line contains `tag`. */
function livePidsWith(tag: string): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-f', tag]).toString();
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return out.split('\n').filter(Boolean).map(Number).filter((pid) => !processGone(pid));
}

/** The three ways a command runs: a pooled shell, an SSH channel of its own (timeout_s above longCommand), a local member. */
const PATHS = [
  { path: 'a pooled SSH shell', member: 'node', timeout_s: undefined },
  { path: 'an SSH channel of its own', member: 'node', timeout_s: LONG_TIMEOUT_S },
  { path: 'a local member', member: 'here', timeout_s: undefined },
] as const;

describe('a command ends when its shell exits, and what it left running is stopped', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let other: McpTestClient;
  const work = mkdtempSync(join(tmpdir(), 'fleet-ends-'));

  beforeAll(async () => {
    sshd = await Sshd.start();
    ({ fleetd, mcp } = await startFleetd());
    other = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('node', sshd));
    await mcp.call('register_member', { name: 'here', kind: 'local' });
  }, 60_000);
  afterAll(async () => {
    await other?.close().catch(() => undefined);
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const run = async (client: McpTestClient, member: string, command: string, timeout_s?: number) =>
    (await client.call<{ results: MemberResult[] }>('execute_command', { member, command, ...(timeout_s ? { timeout_s } : {}) })).results[0]!;

  for (const { path, member, timeout_s } of PATHS) {
    it(`on ${path}: a background child's later output never reaches another command, and the child is stopped`, { timeout: 60_000 }, async () => {
      const tag = `fleet-leftover-${randomBytes(6).toString('hex')}`;
      const t0 = Date.now();
      // The child prints after a second and then lingers: left alone it would still be there.
      const first = await run(mcp, member, `sh -c '(sleep 1; echo LEAKED ${tag}; sleep 30) & echo started'`, timeout_s);
      expect(first).toMatchObject({ ok: true, exitCode: 0, stdout: 'started\n' });
      expect(Date.now() - t0).toBeLessThan(5000);
      // Commands from both MCP sessions, started at once and running across the moment the child would print.
      const next = Promise.all([
        run(other, member, 'sleep 1.5; echo next', timeout_s),
        run(other, member, 'sleep 1.5; echo next', timeout_s),
        run(mcp, member, 'sleep 1.5; echo next', timeout_s),
      ]);
      await until(`the child tagged ${tag} to be stopped`, () => livePidsWith(tag).length === 0 || undefined, 5000);
      for (const r of await next) expect(r).toMatchObject({ ok: true, exitCode: 0, stdout: 'next\n', stderr: '' });
      const after = await run(other, member, 'echo after', timeout_s);
      expect(after.stdout).toBe('after\n');
    });

    it(`on ${path}: \`sleep infinity &\` returns at once and the sleep is stopped`, { timeout: 60_000 }, async () => {
      const pidFile = join(work, `sleeper-${member}-${timeout_s ?? 'pooled'}.pid`);
      const t0 = Date.now();
      const r = await run(mcp, member, `sleep infinity & echo $! > ${pidFile}; echo started`, timeout_s);
      expect(r).toMatchObject({ ok: true, exitCode: 0, stdout: 'started\n' });
      expect(Date.now() - t0).toBeLessThan(5000);
      const sleeper = Number(readFileSync(pidFile, 'utf8'));
      await until(`sleep ${sleeper} to be stopped`, () => processGone(sleeper) || undefined, 5000);
    });
  }

  it('a local member honours timeout_s: the whole command is stopped and answered as timed out', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const r = await run(mcp, 'here', 'sleep 30', 3);
    const wall = Date.now() - t0;
    expect(r).toMatchObject({ ok: true, stopped: 'timeout' });
    expect(wall).toBeGreaterThanOrEqual(2900);
    expect(wall).toBeLessThan(10_000);
  });
});
