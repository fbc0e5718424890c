import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE, FleetdProcess } from '../helpers/fleetd.js';
import { ModernLines } from '../helpers/modern-lines.js';
import { TASKS_EXT } from '../helpers/modern-raw.js';
import { taskExtensionCases } from '../helpers/task-ext-cases.js';

describe('fleet-bridge relays the MCP tasks extension (mcp.modern), against a local member', () => {
  let fleetd: FleetdProcess;
  let dir: string;
  let ext: ModernLines;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-bridge-tasks-'));
    fleetd = await new FleetdProcess({ config: { mcp: { modern: true }, tasks: { poll: 0.2, stopGrace: 1 } } }).start();
    ext = new ModernLines([BRIDGE, '--home', fleetd.home, '--verbose'], { FLEET_TOKEN: '' }, { [TASKS_EXT]: {} });
    const reg = await ext.call('tools/call', { name: 'register_member', arguments: { name: 'here', kind: 'local' } });
    expect(reg.result?.isError, JSON.stringify(reg)).toBeFalsy();
  }, 60_000);
  afterAll(async () => {
    ext?.close();
    await fleetd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  taskExtensionCases(() => ({ ext, member: 'here', dir }));

  it('a task listen stream dropped by kill -9 of fleetd is issued again: the client learns each task\'s end exactly once', { timeout: 90_000 }, async () => {
    const start = async (command: string) => {
      const r = await ext.call('tools/call', { name: 'execute_command', arguments: { member: 'here', command, background: true } });
      expect(r.result, JSON.stringify(r)).toMatchObject({ resultType: 'task' });
      return (r.result as { taskId: string }).taskId;
    };
    const gate = join(dir, 'restart-gate');
    const early = await start('echo early');
    const late = await start(`while [ ! -e ${gate} ]; do sleep 0.05; done; echo late`);
    const stream = ext.listen({ taskIds: [early, late] });
    const ends = (taskId: string) => stream.notes('notifications/tasks').filter((p) => p.taskId === taskId && p.status === 'completed');
    try {
      await stream.waitFor('notifications/tasks', (p) => p.taskId === early && p.status === 'completed');
      await stream.waitFor('notifications/tasks', (p) => p.taskId === late && p.status === 'working');
      await fleetd.kill9();
      writeFileSync(gate, ''); // the late task ends while fleetd is away
      await fleetd.start();
      const done = await stream.waitFor('notifications/tasks', (p) => p.taskId === late && p.status === 'completed', 45_000);
      expect((done.result as { structuredContent: { stdoutTail: string } }).structuredContent.stdoutTail).toBe('late');
      // The re-issued stream opened with both tasks' states (the early one's first): still one end each.
      expect(ends(early)).toHaveLength(1);
      expect(ends(late)).toHaveLength(1);
      expect(ext.stderr).toContain('listening again');
      // The stream is live after the restart: a task started now is told too.
      const after = await start('echo after');
      const again = ext.listen({ taskIds: [after] });
      await again.waitFor('notifications/tasks', (p) => p.status === 'completed');
      again.close();
      expect(ends(early)).toHaveLength(1);
      expect(ends(late)).toHaveLength(1);
    } finally {
      stream.close();
    }
  });
});
