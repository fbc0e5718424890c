import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { startTask, taskEvents, waitForTask } from './lib.js';

describe('stall detector on plain background commands', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 0.2 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('prints, goes quiet past stall_after_s, prints again: exactly one task.stalled, then one task.resumed, then task.completed', { timeout: 60_000 }, async () => {
    // After the pause it keeps printing (every 0.2 s, well inside the 1 s limit) until it ends,
    // so a poll sees it writing again while it still runs, and it cannot stall a second time.
    const id = await startTask(mcp, 'box', 'echo first; sleep 3; i=0; while [ $i -lt 10 ]; do echo again $i; i=$((i+1)); sleep 0.2; done', { stall_after_s: 1 });
    const stalled = await waitForTask(mcp, id, 'task.stalled');
    expect(stalled.data).toMatchObject({ stallAfterMs: 1000 });
    expect((stalled.data as { quietMs: number }).quietMs).toBeGreaterThanOrEqual(1000);
    const shown = await mcp.call<{ task: { stalled?: boolean; state: string } }>('monitor_task', { task_id: id });
    expect(shown.task).toMatchObject({ state: 'running', stalled: true });
    const resumed = await waitForTask(mcp, id, 'task.resumed');
    expect((resumed.data as { quietMs: number }).quietMs).toBeGreaterThanOrEqual(1000);
    await waitForTask(mcp, id, 'task.completed');
    await new Promise((r) => setTimeout(r, 1000)); // a few more polls: nothing may follow
    expect(taskEvents(mcp, id).map((e) => e.topic)).toEqual(['task.started', 'task.stalled', 'task.resumed', 'task.completed']);
    const after = await mcp.call<{ task: { stalled?: boolean } }>('monitor_task', { task_id: id });
    expect(after.task.stalled).toBeUndefined();
  });

  it('a command that writes steadily never stalls', { timeout: 60_000 }, async () => {
    const id = await startTask(mcp, 'box', 'i=0; while [ $i -lt 15 ]; do echo tick $i >&2; i=$((i+1)); sleep 0.2; done', { stall_after_s: 1 });
    await waitForTask(mcp, id, 'task.completed');
    expect(taskEvents(mcp, id).map((e) => e.topic)).toEqual(['task.started', 'task.completed']);
  });
});
