import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { FLEETD, tempHome } from '../helpers/fleetd.js';
import { ModernLines } from '../helpers/modern-lines.js';
import { TASKS_EXT } from '../helpers/modern-raw.js';
import { taskExtensionCases } from '../helpers/task-ext-cases.js';

describe('MCP tasks extension over fleetd --transport stdio (mcp.modern), against a local member', () => {
  let home: string;
  let dir: string;
  let ext: ModernLines;

  beforeAll(async () => {
    home = tempHome();
    dir = mkdtempSync(join(tmpdir(), 'fleet-stdio-tasks-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ mcp: { modern: true }, tasks: { poll: 0.2, stopGrace: 1 } }), { mode: 0o600 });
    ext = new ModernLines([FLEETD, '--transport', 'stdio', '--home', home], {}, { [TASKS_EXT]: {} });
    const reg = await ext.call('tools/call', { name: 'register_member', arguments: { name: 'here', kind: 'local' } });
    expect(reg.result?.isError, JSON.stringify(reg)).toBeFalsy();
  }, 30_000);
  afterAll(() => {
    ext?.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  taskExtensionCases(() => ({ ext, member: 'here', dir }));
});
