import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketStore } from '../credentials/helpers.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { startTask, waitForTask } from './lib.js';

describe('background tasks given odd input', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let root: string;
  const secret = `S3cr3t-${randomBytes(12).toString('hex')}`;
  const rest = async (path: string, init: RequestInit = {}) => fetch(`${fleetd.url}${path}`, { ...init, headers: { authorization: `Bearer ${fleetd.token}` } });

  beforeAll(async () => {
    sshd = await Sshd.start();
    // The sshd member is this machine: the tasks' folders are readable here.
    root = mkdtempSync(join(tmpdir(), 'fleet-tasks-'));
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { stopGrace: 1, root } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
    await mcp.call('credential_store_set', { name: 'deploy_token' });
    expect(await socketStore(fleetd.home, { name: 'deploy_token', value: secret })).toMatchObject({ ok: true });
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it("a background command's filled-in secret is kept on the member only in files its owner alone can read", { timeout: 60_000 }, async () => {
    const id = await startTask(mcp, 'box', 'echo "{{secure.deploy_token}}" | wc -c; echo "$TOKEN" | wc -c', { env: { TOKEN: '{{secure.deploy_token}}' } });
    const done = await waitForTask(mcp, id, 'task.completed');
    expect(JSON.stringify(done)).not.toContain(secret);
    for (const f of readdirSync(join(root, id))) {
      const p = join(root, id, f);
      if (readFileSync(p, 'utf8').includes(secret)) expect({ f, mode: (statSync(p).mode & 0o077).toString(8) }).toEqual({ f, mode: '0' });
    }
    expect(readFileSync(join(root, id, 'run'), 'utf8')).toContain(secret); // where it is: the wrapper
  });

  it('{{secure.NAME}} of an unknown credential: the start fails naming it, and no task is left "starting"', { timeout: 60_000 }, async () => {
    for (const extra of [{}, { env: { TOKEN: '{{secure.NOPE}}' } }]) {
      const command = 'env' in extra ? 'echo "$TOKEN"' : 'echo {{secure.NOPE}}';
      await expect(startTask(mcp, 'box', command, extra)).rejects.toThrow(/NOPE/);
    }
    const { tasks } = await mcp.call<{ tasks: { id: string; state: string }[] }>('list_tasks', {});
    expect(tasks.filter((t) => t.state === 'starting' || t.command.includes('NOPE'))).toEqual([]);
  });

  it('stall_after_s below a second (which would round to "never stalls") is refused with the bound named', { timeout: 60_000 }, async () => {
    for (const stall of [0.0001, 0.5]) {
      const r = await mcp.raw('execute_command', { member: 'box', command: 'true', background: true, stall_after_s: stall });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/stall_after_s/);
    }
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

  it("a FIFO in place of a running task's output file: monitor_task answers at once instead of blocking on it", { timeout: 60_000 }, async () => {
    const id = await startTask(mcp, 'box', 'sleep 20');
    await waitForTask(mcp, id, 'task.started');
    for (const f of ['out', 'err']) {
      rmSync(join(root, id, f));
      execFileSync('mkfifo', [join(root, id, f)]);
    }
    const t0 = Date.now();
    const shown = await mcp.call<{ task: { state: string; stdoutTail: string } }>('monitor_task', { task_id: id });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(shown.task).toMatchObject({ state: 'running', stdoutTail: '' });
    const range = await mcp.call<{ task: { outputError?: string } }>('monitor_task', { task_id: id, stream: 'stdout' });
    expect(range.task.outputError).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(10_000);
    await mcp.call('stop_task', { task_id: id });
  });
});
