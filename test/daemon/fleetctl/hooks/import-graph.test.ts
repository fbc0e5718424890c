import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLEETCTL } from '../../../helpers/fleetd.js';
import { parseHooksConfig } from '../../../../daemon/fleetctl/hooks/config.js';
import { resolveConfig } from '../../../../daemon/config.js';

/** Every module a compiled file loads before it runs: static imports, followed through relative paths. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith('/')) return; // a package or node: builtin
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
      const spec = (m[1] ?? m[2])!;
      walk(spec.startsWith('.') ? resolve(dirname(file), spec) : spec);
    }
  };
  walk(entry);
  return seen;
}

describe('the hook path stays small', () => {
  it('fleetctl main, the hook runner and each hook load no yargs, MCP SDK, zod or hono', () => {
    const hooks = join(dirname(FLEETCTL), 'hooks');
    const entries = [FLEETCTL, ...['run', 'session-start', 'prompt', 'post-tool', 'stop'].map((h) => join(hooks, `${h}.js`))];
    const graph = entries.flatMap((e) => [...staticGraph(e)]);
    expect(graph.some((f) => f.endsWith('hooks/daemon-http.js'))).toBe(true);
    const heavy = graph.filter((f) => /^(yargs|@modelcontextprotocol|zod|hono|@hono)/.test(f) || f.endsWith('/cli.js'));
    expect(heavy).toEqual([]);
  });
});

describe('the hooks section of config.json', () => {
  it('defaults favour signal, and fleetd refuses a bad section at start-up with the key named', () => {
    const d = parseHooksConfig(undefined);
    expect(d.show.topics).toEqual(expect.arrayContaining(['task.completed', 'task.failed', 'task.stalled', 'member.offline', 'member.online', 'credential.stored', 'credential.expiring', 'ci.status', 'file.changed']));
    expect(d.show.topics).not.toContain('task.started');
    expect(d.stopWaitMs).toBeLessThan(60_000);
    expect(resolveConfig({ file: { hooks: { stopWait: '20s', topics: ['task.*'] } } }).hooks).toMatchObject({ stopWaitMs: 20_000, show: { topics: ['task.*'] } });
    expect(() => resolveConfig({ file: { hooks: { stopWait: '1h' } } })).toThrow(/hooks\.stopWait "1h" is not a duration from 0 to 10m/);
    expect(() => resolveConfig({ file: { hooks: { topic: ['x'] } } })).toThrow(/hooks has unknown key\(s\) topic/);
    expect(() => resolveConfig({ file: { hooks: { topics: ['bad glob!'] } } })).toThrow(/hooks\.topics: bad topic glob/);
  });
});
