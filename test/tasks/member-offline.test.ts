import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, fleetctl, until } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember, waitForMemberEvent } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { liveProcesses, startTask, taskEvents, waitForTask } from './lib.js';

/** SIGKILL to a task's whole process group (its wrapper leads it). */
function killGroup(wrapper: number): void {
  try {
    process.kill(-wrapper, 'SIGKILL');
  } catch {
    // already gone
  }
}

type Monitored = { task: { state: string; reachable?: boolean; unreachableSince?: string; lastKnownState?: string; note?: string } };

// sshd.kill() takes the listener and every session serving fleetd (pool shells, watcher, SFTP):
// the member is cut the way a crashed host is, while the tasks (detached) keep running.
describe('member unreachable while its tasks run', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const flag = join(tmpdir(), `fleet-offline-flag-${process.pid}`);
  const started: string[] = [];

  beforeAll(async () => {
    rmSync(flag, { force: true });
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 0.5 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    // Tasks outlive fleetd and sshd: a failed run must not leave them behind for later tests.
    for (const id of started) for (const pid of liveProcesses(`${id}/run`)) killGroup(pid);
    rmSync(flag, { force: true });
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('sshd killed mid-task and restarted: monitor_task says unreachable since when; the surviving task is re-attached and completes once, the one killed meanwhile is task.failed "lost", as is one whose pid now belongs to another process', { timeout: 90_000 }, async () => {
    const survivor = await startTask(mcp, 'box', `echo before; while [ ! -e ${flag} ]; do sleep 0.1; done; echo after`);
    const killed = await startTask(mcp, 'box', 'sleep 297');
    const reused = await startTask(mcp, 'box', 'sleep 298');
    started.push(survivor, killed, reused);
    const running = await mcp.call<Monitored>('monitor_task', { task_id: survivor });
    expect(running.task).toMatchObject({ state: 'running' });

    // fleetctl tasks tail -f rides the outage out: it waits, then prints the rest, once.
    const tail = fleetctl(['--home', fleetd.home, 'tasks', 'tail', survivor, '-f']);

    const cutAt = Date.now();
    await sshd.kill();
    const offline = await waitForMemberEvent(mcp, 'box', 'member.offline', { timeoutMs: 15_000 });
    const away = await mcp.call<Monitored>('monitor_task', { task_id: survivor });
    expect(away.task.state).toBe('unreachable');
    expect(away.task).toMatchObject({ reachable: false, lastKnownState: 'running' });
    expect(Date.parse(away.task.unreachableSince!)).toBeGreaterThanOrEqual(cutAt - 1000);
    expect(away.task.unreachableSince).toBe((offline.data as { since?: string }).since ?? away.task.unreachableSince);
    expect(away.task.note).toContain(`unreachable since ${away.task.unreachableSince}`);
    const text = await mcp.raw('monitor_task', { task_id: survivor });
    expect((text.content[0] as { text: string }).text).toMatch(new RegExp(`^Task ${survivor}: member box is unreachable since ${away.task.unreachableSince}`));

    // While nobody can look: one task's process group is killed; another's process too, and its
    // pid is then taken by an unrelated live process (what pid reuse looks like).
    for (const id of [killed, reused]) {
      const [wrapper] = liveProcesses(`${id}/run`);
      expect(wrapper).toBeDefined();
      killGroup(wrapper!);
    }
    const impostor = spawn('sleep', ['120'], { stdio: 'ignore' });
    const pidFile = join(homedir(), '.fleet/tasks', reused, 'pid');
    const [, startTime] = readFileSync(pidFile, 'utf8').trim().split(' ');
    writeFileSync(pidFile, `${impostor.pid} ${startTime}\n`);

    try {
      await sshd.start();
      await waitForMemberEvent(mcp, 'box', 'member.online', { count: 2, timeoutMs: 20_000 });
      const lost = await waitForTask(mcp, killed, 'task.failed');
      expect(lost.data).toMatchObject({ reason: 'lost', exitCode: null });
      const lostToo = await waitForTask(mcp, reused, 'task.failed');
      expect(lostToo.data).toMatchObject({ reason: 'lost', exitCode: null });

      const back = await mcp.call<Monitored>('monitor_task', { task_id: survivor });
      expect(back.task.state).toBe('running');
      expect(back.task.reachable).toBeUndefined();
      writeFileSync(flag, '');
      const done = await waitForTask(mcp, survivor, 'task.completed');
      expect(done.data).toMatchObject({ exitCode: 0, stdoutTail: 'before\nafter' });
      const tailed = await tail;
      expect(tailed).toMatchObject({ code: 0, stdout: 'before\nafter\n' });
      // A few more polls (every 0.5 s): nothing may repeat.
      await new Promise((r) => setTimeout(r, 2500));
      expect(taskEvents(mcp, survivor).map((e) => e.topic)).toEqual(['task.started', 'task.completed']);
      expect(taskEvents(mcp, killed).map((e) => e.topic)).toEqual(['task.started', 'task.failed']);
      expect(taskEvents(mcp, reused).map((e) => e.topic)).toEqual(['task.started', 'task.failed']);
      await until('the impostor to be left alone', () => impostor.exitCode === null && impostor.signalCode === null, 1000);
    } finally {
      impostor.kill('SIGKILL');
    }
  });
});
