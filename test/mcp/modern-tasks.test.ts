import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, ROOT } from '../helpers/fleetd.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { ModernRaw, TASKS_EXT, type ListenStream } from '../helpers/modern-raw.js';
import { Sshd } from '../helpers/sshd.js';
import { liveProcesses, release } from '../tasks/lib.js';

const FAKE = join(ROOT, 'test/helpers/fake-claude.mjs');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type Task = { taskId: string; status: string; statusMessage?: string; createdAt: string; lastUpdatedAt: string; ttlMs: number | null; pollIntervalMs?: number; result?: Record<string, unknown> };
type Structured = { task: { id: string; state: string; exitCode: number | null; result?: Record<string, unknown> }; exitCode: number | null; stdoutTail?: string; stderrTail?: string };

describe('MCP tasks extension (io.modelcontextprotocol/tasks) over 2026-07-28 against an sshd member', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let ext: ModernRaw;
  let plain: ModernRaw;
  let dir: string;

  beforeAll(async () => {
    sshd = await Sshd.start();
    dir = mkdtempSync(join(tmpdir(), 'fleet-ext-tasks-'));
    const agent = { command: 'fleet-no-such-agent', members: { box: `${process.execPath} ${FAKE}` } };
    fleetd = await new FleetdProcess({ config: { mcp: { modern: true }, members: FAST_MEMBERS, tasks: { poll: 0.2, stopGrace: 1, agent } } }).start();
    ext = new ModernRaw(fleetd, { [TASKS_EXT]: {} });
    plain = new ModernRaw(fleetd);
    const reg = await plain.call('tools/call', { name: 'register_member', arguments: sshMember('box', sshd) });
    expect(reg.result?.isError, JSON.stringify(reg)).toBeFalsy();
  }, 60_000);
  afterAll(async () => {
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A background command as a task (the extension declared); returns the CreateTaskResult. */
  async function create(command: string): Promise<Task & { resultType: string }> {
    const r = await ext.call('tools/call', { name: 'execute_command', arguments: { member: 'box', command, background: true } });
    expect(r.status, JSON.stringify(r)).toBe(200);
    return r.result as Task & { resultType: string };
  }

  async function get(taskId: string): Promise<Task & { resultType: string }> {
    const r = await ext.call('tasks/get', { taskId });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    return r.result as Task & { resultType: string };
  }

  function fifo(name: string): string {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  }

  it('server/discover advertises the extension', async () => {
    const r = await plain.call('server/discover');
    expect((r.result as { capabilities: Record<string, unknown> }).capabilities).toMatchObject({ extensions: { [TASKS_EXT]: {} } });
  });

  it('create → a task; its listen stream is told of the completion with the result inlined; tasks/get says the same', { timeout: 60_000 }, async () => {
    const gate = fifo('gate-ok');
    const created = await create(`read _ < ${gate}; echo out-line; echo err-line >&2`);
    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: null, pollIntervalMs: 200 });
    expect(created.taskId).toMatch(/^t-[0-9a-f]{16}$/);
    expect(created.createdAt).toMatch(ISO);
    expect(created.result).toBeUndefined();
    // Durably created: tasks/get resolves at once.
    expect(await get(created.taskId)).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'working' });

    const stream = await ext.listen({ taskIds: [created.taskId, 't-0000000000000000'] });
    try {
      const ack = await stream.waitFor('notifications/subscriptions/acknowledged', () => true);
      expect(ack.notifications).toEqual({ taskIds: [created.taskId] }); // the unknown id is not honored
      // The stream opens with the task's state now, then its changes.
      await stream.waitFor('notifications/tasks', (p) => p.status === 'working');
      await release(gate);
      const done = (await stream.waitFor('notifications/tasks', (p) => p.status === 'completed')) as unknown as Task;
      expect(done.taskId).toBe(created.taskId);
      const s = done.result!.structuredContent as Structured;
      expect(s).toMatchObject({ exitCode: 0, stdoutTail: 'out-line', stderrTail: 'err-line', task: { id: created.taskId, state: 'completed', exitCode: 0 } });
      expect(done.result!.isError).toBeUndefined();
      expect(done.ttlMs).toBeGreaterThan(0);

      const got = await get(created.taskId);
      expect(got).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'completed', createdAt: created.createdAt });
      expect(got.result).toEqual(done.result);
      expect(Date.parse(got.lastUpdatedAt)).toBeGreaterThanOrEqual(Date.parse(got.createdAt));
    } finally {
      stream.close();
    }
  });

  it('a non-zero exit is completed with an isError tool result (failed is for JSON-RPC errors only)', { timeout: 60_000 }, async () => {
    const created = await create('echo nope >&2; exit 3');
    const stream = await ext.listen({ taskIds: [created.taskId] });
    try {
      const done = (await stream.waitFor('notifications/tasks', (p) => p.status !== 'working')) as unknown as Task;
      expect(done.status).toBe('completed');
      expect(done.result).toMatchObject({ isError: true, structuredContent: { exitCode: 3, stderrTail: 'nope', task: { state: 'failed' } } });
      expect(done.statusMessage).toContain('exit code 3');
    } finally {
      stream.close();
    }
  });

  it('execute_prompt answers with a task whose result is the agent\'s', { timeout: 60_000 }, async () => {
    const r = await ext.call('tools/call', { name: 'execute_prompt', arguments: { member: 'box', prompt: 'hello agent' } });
    const created = r.result as Task & { resultType: string };
    expect(created).toMatchObject({ resultType: 'task', status: 'working' });
    const stream = await ext.listen({ taskIds: [created.taskId] });
    try {
      await stream.waitFor('notifications/tasks', (p) => p.status === 'completed');
      const got = await get(created.taskId);
      expect((got.result!.structuredContent as Structured).task.result).toMatchObject({ result: 'answered: hello agent', isError: false });
    } finally {
      stream.close();
    }
  });

  it('tasks/cancel stops a long task: cancelled on the stream and in tasks/get, task.cancelled in the log, the process gone on the member', { timeout: 60_000 }, async () => {
    // A duration no other test uses, so only this task's sleep is counted.
    const marker = `sleep ${300 + Math.floor(Math.random() * 600)}.${process.pid}`;
    const created = await create(marker);
    const stream = await ext.listen({ taskIds: [created.taskId] });
    try {
      await stream.waitFor('notifications/tasks', (p) => p.status === 'working');
      // Started means its wrapper runs; the sleep it forks follows a moment later.
      const deadline = Date.now() + 15_000;
      while (liveProcesses(marker).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(liveProcesses(marker)).toHaveLength(1);
      const cancel = await ext.call('tasks/cancel', { taskId: created.taskId });
      expect(cancel).toMatchObject({ status: 200, result: { resultType: 'complete' } });
      const cancelled = await stream.waitFor('notifications/tasks', (p) => p.status === 'cancelled');
      expect(cancelled.result).toBeUndefined();
      expect(await get(created.taskId)).toMatchObject({ status: 'cancelled' });
      expect(liveProcesses(marker)).toEqual([]);
      const read = await plain.call('resources/read', { uri: `fleet://events/task/${created.taskId}?after=0` });
      const page = JSON.parse((read.result as { contents: { text: string }[] }).contents[0]!.text) as { events: { topic: string }[] };
      expect(page.events.map((e) => e.topic)).toEqual(['task.started', 'task.cancelled']);
      // Cancelling a task that already ended is acknowledged and changes nothing.
      expect(await ext.call('tasks/cancel', { taskId: created.taskId })).toMatchObject({ result: { resultType: 'complete' } });
    } finally {
      stream.close();
    }
  });

  it('a client without the extension gets the plain result, and -32021 for tasks/* and task listens', { timeout: 60_000 }, async () => {
    const r = await plain.call('tools/call', { name: 'execute_command', arguments: { member: 'box', command: 'true', background: true } });
    expect(r.result?.resultType).not.toBe('task');
    const results = (r.result!.structuredContent as { results: { ok: boolean; id: string }[] }).results;
    expect(results).toHaveLength(1);
    const taskId = results[0]!.id;
    // The same task, seen through the extension by a client that declares it.
    expect((await get(taskId)).taskId).toBe(taskId);

    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const denied = await plain.call(method, { taskId, inputResponses: {} });
      expect(denied.status).toBe(400);
      expect(denied.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS_EXT]: {} } } } });
    }
    const listen = await plain.call('subscriptions/listen', { notifications: { taskIds: [taskId] } });
    expect(listen.error?.code).toBe(-32021);
  });

  it('the extension leaves other calls as they are and answers unknown tasks with -32602', async () => {
    const fg = await ext.call('tools/call', { name: 'execute_command', arguments: { member: 'box', command: 'echo fg' } });
    expect(fg.result?.resultType).not.toBe('task');
    expect((fg.result!.structuredContent as { results: { stdout: string }[] }).results[0]!.stdout).toBe('fg\n');
    const bad = await ext.call('tools/call', { name: 'execute_command', arguments: { member: 'nobody', command: 'true', background: true } });
    expect(bad.result).toMatchObject({ isError: true });
    expect(bad.result?.resultType).not.toBe('task');
    for (const taskId of ['t-0000000000000000', 'nonsense']) expect((await ext.call('tasks/get', { taskId })).error?.code).toBe(-32602);
    const mismatch = await ext.call('tasks/get', { taskId: 't-0000000000000000' }, { 'mcp-name': 't-1111111111111111' });
    expect(mismatch).toMatchObject({ status: 400, error: { code: -32020 } });
  });

  it('a listen stream with taskIds also carries the resource updates it asks for', { timeout: 30_000 }, async () => {
    const created = await create('true');
    const stream: ListenStream = await ext.listen({ taskIds: [created.taskId], resourceSubscriptions: ['fleet://events/topic/ext'] });
    try {
      const ack = await stream.waitFor('notifications/subscriptions/acknowledged', () => true);
      expect(ack.notifications).toEqual({ taskIds: [created.taskId], resourceSubscriptions: ['fleet://events/topic/ext'] });
      const e = (await (await fleetd.publish('ext.ping', 'hello')).json()) as { id: number };
      const u = await stream.waitFor('notifications/resources/updated', () => true);
      expect(u).toMatchObject({ uri: 'fleet://events/topic/ext', _meta: { 'fleet/eventId': e.id } });
    } finally {
      stream.close();
    }
  });
});
