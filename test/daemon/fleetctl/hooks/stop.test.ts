import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../../../helpers/fleetd.js';
import { McpTestClient } from '../../../helpers/mcp.js';
import { startTask, waitForTask } from '../../../tasks/lib.js';
import { hookInput, runHook } from './lib.js';

describe('fleetctl hook stop against a real fleetd with a local member', () => {
  let d: FleetdProcess;
  let mcp: McpTestClient;
  let env: Record<string, string>;
  const setStopWait = (s: number) => writeFileSync(join(d.home, 'config.json'), JSON.stringify({ tasks: { poll: 1 }, hooks: { stopWait: s } }));
  const stop = (session: string, extra: Record<string, unknown> = {}) => runHook('stop', hookInput('Stop', session, extra), env);

  beforeAll(async () => {
    d = await new FleetdProcess({ config: { tasks: { poll: 1 }, hooks: { stopWait: 40 } } }).start();
    env = { FLEET_HOME: d.home };
    mcp = await McpTestClient.connect(d);
    await mcp.call('register_member', { name: 'here', kind: 'local' });
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await d?.dispose();
  });

  it('nothing pending: answers at once, with nothing', async () => {
    await runHook('session-start', hookInput('SessionStart', 'idle'), env);
    const r = await stop('idle');
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.ms).toBeLessThan(5000);
  });

  it('a running background task: blocks until it ends and returns its completion (with output) as the reason', async () => {
    await runHook('session-start', hookInput('SessionStart', 'worker'), env);
    const id = await startTask(mcp, 'here', 'sleep 3; echo finished-marker');
    const t0 = Date.now();
    const r = await stop('worker');
    const waited = Date.now() - t0;
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(answer.decision).toBe('block');
    expect(answer.reason).toMatch(new RegExp(`#\\d+ task\\.completed \\(${id}\\): ✓ task ${id} on here completed`));
    expect(answer.reason).toContain('stdout: finished-marker');
    // It waited for the end (the task had about 3 s to go), and the task really has ended.
    expect(waited).toBeGreaterThan(1500);
    const shown = (await (await d.fetch(`/tasks/${id}`)).json()) as { task: { state: string } };
    expect(shown.task.state).toBe('completed');
    // Told once: a later Stop with nothing pending answers nothing.
    expect((await stop('worker')).stdout).toBe('');
  });

  it('an end that came before the Stop is answered at once', async () => {
    await runHook('session-start', hookInput('SessionStart', 'late'), env);
    const id = await startTask(mcp, 'here', 'exit 4');
    await waitForTask(mcp, id, 'task.failed');
    const r = await stop('late');
    expect(r.ms).toBeLessThan(5000);
    const answer = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(answer).toMatchObject({ decision: 'block' });
    expect(answer.reason).toContain(`task.failed (${id})`);
  });

  it('stop_hook_active: true never blocks again, even with a task running', async () => {
    await runHook('session-start', hookInput('SessionStart', 'looping'), env);
    const id = await startTask(mcp, 'here', 'sleep 30');
    try {
      const r = await stop('looping', { stop_hook_active: true });
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeLessThan(5000);
    } finally {
      await mcp.call('stop_task', { task_id: id });
    }
  });

  it('hooks.stopWait bounds the wait: nothing happening means no block, exit 0', async () => {
    await runHook('session-start', hookInput('SessionStart', 'patient'), env);
    const id = await startTask(mcp, 'here', 'sleep 30');
    setStopWait(1);
    try {
      const r = await stop('patient');
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeGreaterThan(900);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      setStopWait(40);
      await mcp.call('stop_task', { task_id: id });
    }
  });
});
