import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { recordArrivals, startTask, waitForTask } from './lib.js';

/** Waits until `check` holds, up to `ms`. */
async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('task folders on members after the retention period', () => {
  let root: string;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-task-root-'));
    fleetd = await new FleetdProcess({ config: { tasks: { root, poll: 0.2, retention: 1 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    recordArrivals(mcp);
    await mcp.call('register_member', { name: 'here', kind: 'local' });
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('removes a finished task\'s folder and listing once it is older than tasks.retention, never a running one\'s', { timeout: 60_000 }, async () => {
    const running = await startTask(mcp, 'here', 'sleep 60');
    const done = await startTask(mcp, 'here', 'echo finished');
    await waitForTask(mcp, done, 'task.completed');
    expect(existsSync(join(root, done, 'out'))).toBe(true);

    await until(`${done}'s folder to be removed`, () => !existsSync(join(root, done)));
    const listed = await mcp.call<{ tasks: { id: string; state: string }[] }>('list_tasks', {});
    expect(listed.tasks.map((t) => t.id)).not.toContain(done);

    // The running task is far past the retention period since it started, and is kept whole.
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(join(root, running, 'out'))).toBe(true);
    expect(listed.tasks.find((t) => t.id === running)?.state).toBe('running');
    await mcp.call('stop_task', { task_id: running });
  });
});
