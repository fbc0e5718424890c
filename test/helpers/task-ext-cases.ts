import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { liveProcesses } from '../tasks/lib.js';
import type { ModernLines } from './modern-lines.js';
import { TASKS_EXT } from './modern-raw.js';

type Task = { taskId: string; status: string; statusMessage?: string; createdAt: string; ttlMs: number | null; result?: Record<string, unknown>; resultType?: string };

/** What the cases run against: a client declaring the extension, a local member, a scratch directory. */
export interface TaskExtTarget {
  ext: ModernLines;
  member: string;
  dir: string;
}

/**
 * The key cases of test/mcp/modern-tasks.test.ts (tasks extension on HTTP /mcp), over a
 * stdio line client: fleetd --transport stdio, or fleet-bridge in front of fleetd.
 */
export function taskExtensionCases(target: () => TaskExtTarget): void {
  const create = async (command: string): Promise<Task> => {
    const { ext, member } = target();
    const r = await ext.call('tools/call', { name: 'execute_command', arguments: { member, command, background: true } });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.result as Task;
  };
  const get = async (taskId: string): Promise<Task> => {
    const r = await target().ext.call('tasks/get', { taskId });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.result as Task;
  };

  it('server/discover advertises the extension', async () => {
    const r = await target().ext.call('server/discover', {}, {});
    expect((r.result as { capabilities: Record<string, unknown> }).capabilities).toMatchObject({ extensions: { [TASKS_EXT]: {} } });
  });

  it('create → a task; its listen stream is told of the completion with the result inlined; tasks/get says the same', { timeout: 60_000 }, async () => {
    // The task waits until the test writes the gate file.
    const gate = join(target().dir, `gate-${Date.now()}`);
    const created = await create(`while [ ! -e ${gate} ]; do sleep 0.05; done; echo out-line; echo err-line >&2`);
    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: null });
    expect(created.taskId).toMatch(/^t-[0-9a-f]{16}$/);
    expect(await get(created.taskId)).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'working' });
    const stream = target().ext.listen({ taskIds: [created.taskId, 't-0000000000000000'] });
    try {
      const ack = await stream.waitFor('notifications/subscriptions/acknowledged', () => true);
      expect(ack.notifications).toEqual({ taskIds: [created.taskId] });
      await stream.waitFor('notifications/tasks', (p) => p.status === 'working');
      writeFileSync(gate, '');
      const done = (await stream.waitFor('notifications/tasks', (p) => p.status === 'completed')) as unknown as Task;
      expect(done.result!.structuredContent).toMatchObject({ exitCode: 0, stdoutTail: 'out-line', stderrTail: 'err-line', task: { id: created.taskId, state: 'completed' } });
      const got = await get(created.taskId);
      expect(got).toMatchObject({ resultType: 'complete', status: 'completed', createdAt: created.createdAt });
      expect(got.result).toEqual(done.result);
    } finally {
      stream.close();
    }
  });

  it('tasks/cancel stops a long task: cancelled on the stream and in tasks/get, the process gone', { timeout: 60_000 }, async () => {
    const marker = `sleep ${300 + Math.floor(Math.random() * 600)}.${process.pid}`;
    const created = await create(marker);
    const stream = target().ext.listen({ taskIds: [created.taskId] });
    try {
      await stream.waitFor('notifications/tasks', (p) => p.status === 'working');
      const deadline = Date.now() + 15_000;
      while (liveProcesses(marker).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(liveProcesses(marker)).toHaveLength(1);
      expect(await target().ext.call('tasks/cancel', { taskId: created.taskId })).toMatchObject({ result: { resultType: 'complete' } });
      const cancelled = await stream.waitFor('notifications/tasks', (p) => p.status === 'cancelled');
      expect(cancelled.result).toBeUndefined();
      expect(await get(created.taskId)).toMatchObject({ status: 'cancelled' });
      expect(liveProcesses(marker)).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('a client without the extension gets the plain result, and -32021 for tasks/* and task listens', { timeout: 30_000 }, async () => {
    const { ext, member } = target();
    const r = await ext.call('tools/call', { name: 'execute_command', arguments: { member, command: 'true', background: true } }, {});
    expect(r.result?.resultType).not.toBe('task');
    const results = (r.result!.structuredContent as { results: { ok: boolean; id: string }[] }).results;
    expect(results).toHaveLength(1);
    const taskId = results[0]!.id;
    expect((await get(taskId)).taskId).toBe(taskId); // the same task, through the extension
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await ext.call(method, { taskId }, {})).error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS_EXT]: {} } } } });
    }
    const listen = ext.listen({ taskIds: [taskId] }, {});
    expect((await ext.answerTo(listen.id)).error).toMatchObject({ code: -32021 });
  });
}
