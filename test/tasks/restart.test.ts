import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient, type FleetEventLike } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { liveProcesses, startTask } from './lib.js';

/** Every task event in the log (not just what one session saw pushed). */
async function taskLog(fleetd: FleetdProcess): Promise<FleetEventLike[]> {
  const r = await fleetd.fetch('/events?since=0&topic=task.*&limit=10000', { headers: { accept: 'application/json' } });
  return ((await r.json()) as { events: FleetEventLike[] }).events;
}

describe('fleetd killed -9 while tasks run', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 1 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('each of 5 tasks gets exactly one terminal event with its exit code, 2 of them having ended during the outage', { timeout: 90_000 }, async () => {
    const plan = [
      { command: 'sleep 1; exit 0', code: 0 },
      { command: 'sleep 1.5; echo bye; exit 4', code: 4 },
      { command: 'sleep 6; exit 0', code: 0 },
      { command: 'sleep 6.5; exit 7', code: 7 },
      { command: 'sleep 7; echo late', code: 0 },
    ];
    const ids = await Promise.all(plan.map((p) => startTask(mcp, 'box', p.command)));
    await mcp.close().catch(() => undefined);
    await fleetd.kill9();
    // The first two end while nobody listens.
    await until('the short tasks to end on the member', () => ids.slice(0, 2).every((id) => liveProcesses(`${id}/run`).length === 0) || undefined, 10_000);
    await fleetd.start();
    await until(
      'a terminal event for every task',
      async () => {
        const ended = (await taskLog(fleetd)).filter((e) => /^task\.(completed|failed)$/.test(e.topic));
        return ids.every((id) => ended.some((e) => e.subject === id)) || undefined;
      },
      30_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 2500)); // a few more polls: nothing may repeat
    const log = await taskLog(fleetd);
    for (const [i, id] of ids.entries()) {
      const mine = log.filter((e) => e.subject === id);
      expect(mine.map((e) => e.topic)).toEqual(['task.started', plan[i]!.code === 0 ? 'task.completed' : 'task.failed']);
      expect((mine[1]!.data as { exitCode: number }).exitCode).toBe(plan[i]!.code);
    }
    expect((log.find((e) => e.subject === ids[1] && e.topic === 'task.failed')!.data as { stdoutTail: string }).stdoutTail).toBe('bye');
  });

  it('a task whose process was killed while fleetd was down is task.failed "lost"', { timeout: 60_000 }, async () => {
    const client = await McpTestClient.connect(fleetd);
    const id = await startTask(client, 'box', 'sleep 60');
    await client.close();
    await fleetd.kill9();
    for (const pid of liveProcesses(`${id}/run`)) process.kill(pid, 'SIGKILL');
    await fleetd.start();
    const lost = await until(
      'task.failed lost',
      async () => (await taskLog(fleetd)).find((e) => e.subject === id && e.topic === 'task.failed'),
      20_000,
      200,
    );
    expect(lost.data).toMatchObject({ reason: 'lost', exitCode: null });
    for (const pid of liveProcesses('sleep 60')) process.kill(pid, 'SIGKILL');
  });
});
