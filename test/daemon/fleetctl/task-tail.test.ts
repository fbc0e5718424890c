import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketStore } from '../../credentials/helpers.js';
import { FLEETCTL, FleetdProcess, fleetctl } from '../../helpers/fleetd.js';
import { McpTestClient } from '../../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../../helpers/members.js';
import { Sshd } from '../../helpers/sshd.js';
import { liveProcesses, recordArrivals, startTask, waitForTask } from '../../tasks/lib.js';

/** Runs fleetctl, noting when its first stdout byte came. */
function fleetctlTimed(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; firstOutputAt: number; exitedAt: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETCTL, ...args], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    let firstOutputAt = 0;
    p.stdout.on('data', (d: Buffer) => {
      firstOutputAt ||= Date.now();
      chunks.push(d);
    });
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), stderr, firstOutputAt, exitedAt: Date.now() }));
  });
}

// 3000 lines of ~100 bytes with multi-byte characters (300 KB: many reads, cut anywhere), in
// bursts with pauses; a line carrying a secret; a last line without a newline; exit 3.
const PAD = 'x'.repeat(80);
const LINES = 3000;
const COMMAND = `for i in $(seq 1 ${LINES}); do echo "line $i ü✓ ${PAD}"; if [ $((i % 500)) = 0 ]; then sleep 0.4; echo "token={{secure.tail_token}} at $i"; fi; done; echo "to stderr" >&2; printf 'no newline at the end'; exit 3`;
function expected(): string {
  let s = '';
  for (let i = 1; i <= LINES; i++) {
    s += `line ${i} ü✓ ${PAD}\n`;
    if (i % 500 === 0) s += `token=[REDACTED:tail_token] at ${i}\n`;
  }
  return `${s}no newline at the end`;
}

describe('fleetctl tasks tail on an sshd member', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let arrivals: Map<number, number>;
  const secret = `T41l-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 1, stopGrace: 1 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    arrivals = recordArrivals(mcp);
    await mcp.call('register_member', sshMember('box', sshd));
    await mcp.call('credential_store_set', { name: 'tail_token', members: ['box'] });
    expect(await socketStore(fleetd.home, { name: 'tail_token', value: secret })).toMatchObject({ ok: true });
  }, 60_000);
  afterAll(async () => {
    for (const pid of liveProcesses('sleep 296')) process.kill(pid, 'SIGKILL'); // left by a failed run
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('-f prints the output as it comes, in order, nothing repeated or lost, secrets redacted, and exits with the task\'s code when it ends', { timeout: 90_000 }, async () => {
    const id = await startTask(mcp, 'box', COMMAND);
    const tail = await fleetctlTimed(['--home', fleetd.home, 'tasks', 'tail', id, '-f']);
    const failed = await waitForTask(mcp, id, 'task.failed');
    expect(tail.stderr).toContain(`task ${id} failed with exit code 3`);
    expect(tail.code).toBe(3);
    expect(tail.stdout).not.toContain(secret);
    expect(tail.stdout).toBe(expected());
    // It followed: output was printed before the task ended (it runs for 2.4 s).
    expect(tail.firstOutputAt).toBeLessThan(arrivals.get(failed.id)!);
    console.log(`tasks tail -f: 300 KB; exited ${tail.exitedAt - arrivals.get(failed.id)!} ms after task.failed reached an MCP client`);
    // Without -f after the end: the same, exit 0; --stderr: the other stream.
    const again = await fleetctl(['--home', fleetd.home, 'tasks', 'tail', id]);
    expect(again).toMatchObject({ code: 0, stdout: expected() });
    const err = await fleetctl(['--home', fleetd.home, 'tasks', 'tail', id, '--stderr', '-f']);
    expect(err).toMatchObject({ code: 3, stdout: 'to stderr\n' });
  });

  it('without -f prints what is there so far and exits 0; -f on a task stopped meanwhile exits 1', { timeout: 60_000 }, async () => {
    const id = await startTask(mcp, 'box', 'echo one; echo two; sleep 296');
    await new Promise((r) => setTimeout(r, 300));
    const now = await fleetctl(['--home', fleetd.home, 'tasks', 'tail', id]);
    expect(now).toMatchObject({ code: 0, stdout: 'one\ntwo\n' });
    const following = fleetctlTimed(['--home', fleetd.home, 'tasks', 'tail', id, '-f']);
    await new Promise((r) => setTimeout(r, 500));
    await mcp.call('stop_task', { task_id: id });
    const tail = await following;
    expect(tail).toMatchObject({ code: 1, stdout: 'one\ntwo\n' });
    expect(tail.stderr).toContain(`task ${id} cancelled`);
    const bad = await fleetctl(['--home', fleetd.home, 'tasks', 'tail', 't-0000000000000000']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no task t-0000000000000000');
  });
});
