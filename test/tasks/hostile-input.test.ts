import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { startTask, waitForTask } from './lib.js';

describe('background tasks given odd input', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const rest = async (path: string, init: RequestInit = {}) => fetch(`${fleetd.url}${path}`, { ...init, headers: { authorization: `Bearer ${fleetd.token}` } });

  beforeAll(async () => {
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { stopGrace: 1 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('{{secure.NAME}} of an unknown credential: the start fails naming it, and no task is left "starting"', { timeout: 60_000 }, async () => {
    for (const extra of [{}, { env: { TOKEN: '{{secure.NOPE}}' } }]) {
      const command = 'env' in extra ? 'echo "$TOKEN"' : 'echo {{secure.NOPE}}';
      await expect(startTask(mcp, 'box', command, extra)).rejects.toThrow(/NOPE/);
    }
    const { tasks } = await mcp.call<{ tasks: { id: string; state: string }[] }>('list_tasks', {});
    expect(tasks).toEqual([]);
  });

  it('GET /tasks/:id: a range offset or length that is not a whole number in bounds is refused (400), not read silently as something else', { timeout: 60_000 }, async () => {
    const id = await startTask(mcp, 'box', 'echo hello');
    await waitForTask(mcp, id, 'task.completed');
    const ok = await rest(`/tasks/${id}?stream=stdout&offset=2&length=10`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { task: { output: { text: string; nextOffset: number } } }).task.output).toMatchObject({ text: 'llo\n', nextOffset: 6 });
    // Past the end: nothing, and where to read on from.
    const past = (await (await rest(`/tasks/${id}?stream=stdout&offset=1000`)).json()) as { task: { output: { text: string; bytes: number; size: number } } };
    expect(past.task.output).toMatchObject({ text: '', bytes: 0, size: 6 });
    for (const q of ['offset=1.5', 'offset=-3', 'offset=1e30', 'offset=abc', 'length=0', 'length=-5', 'length=0.5', 'length=99999999']) {
      const r = await rest(`/tasks/${id}?stream=stdout&${q}`);
      expect({ q, status: r.status }).toEqual({ q, status: 400 });
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('bad_task');
    }
    // Bad and unknown ids.
    expect((await rest('/tasks/..%2F..%2Fetc')).status).toBe(400);
    expect((await rest('/tasks/t-0000000000000000')).status).toBe(404);
    expect((await rest('/tasks/t-0000000000000000/stop', { method: 'POST' })).status).toBe(404);
  });
});
