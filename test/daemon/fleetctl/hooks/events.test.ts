import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, tempHome } from '../../../helpers/fleetd.js';
import { McpTestClient } from '../../../helpers/mcp.js';
import { hookInput, postToolContext, runHook, shownIds } from './lib.js';

type Ev = { id: number };

describe('fleetctl hook session-start, prompt and post-tool against a real fleetd', () => {
  let d: FleetdProcess;
  let env: Record<string, string>;
  const publish = async (topic: string, message: string, extra: Record<string, unknown> = {}) => ((await (await d.publish(topic, message, extra)).json()) as Ev).id;

  beforeAll(async () => {
    d = await new FleetdProcess({ config: { hooks: { topics: ['deploy.*'], minLevel: 'info', maxLines: 5 } } }).start();
    env = { FLEET_HOME: d.home };
  });
  afterAll(async () => {
    await d?.dispose();
  });

  it('shows each matching event once, in order, then never again for that session; history before its start is not shown', async () => {
    const before = await publish('deploy.old', 'from before the session');
    const start = await runHook('session-start', hookInput('SessionStart', 'one'), env);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('Fleet (fleetd) at session start');
    const cursorFile = join(d.home, 'hooks', 'cursors', 'one.json');
    expect(statSync(cursorFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cursorFile, 'utf8')).after).toBeGreaterThanOrEqual(before);

    const a = await publish('deploy.started', 'web deploy started');
    await publish('deploy.noise', 'below the level', { level: 'debug' });
    await publish('other.thing', 'a topic the hooks do not show');
    const b = await publish('deploy.finished', 'web deployed\nwith a second line');

    const first = await runHook('post-tool', hookInput('PostToolUse', 'one'), env);
    expect(first.code).toBe(0);
    const ctx = postToolContext(first.stdout);
    expect(shownIds(ctx)).toEqual([a, b]);
    expect(ctx).toContain(`#${b} deploy.finished: web deployed ⏎ with a second line`);
    expect(ctx).not.toContain('from before the session');

    expect((await runHook('post-tool', hookInput('PostToolUse', 'one'), env)).stdout).toBe('');
    expect((await runHook('prompt', hookInput('UserPromptSubmit', 'one'), env)).stdout).toBe('');

    const c = await publish('deploy.rolled-back', 'web rolled back', { subject: 'web', level: 'warning' });
    const prompt = await runHook('prompt', hookInput('UserPromptSubmit', 'one'), env);
    expect(prompt.code).toBe(0);
    expect(prompt.stdout).toBe(`Fleet events since your last turn:\n#${c} deploy.rolled-back (web): web rolled back\n`);
    expect((await runHook('post-tool', hookInput('PostToolUse', 'one'), env)).stdout).toBe('');
  });

  it('a second session sees only events from its own start; both see a new one once', async () => {
    await runHook('session-start', hookInput('SessionStart', 'first'), env);
    const old = await publish('deploy.one', 'seen by the first session only');
    await runHook('session-start', hookInput('SessionStart', 'second'), env);
    const shared = await publish('deploy.two', 'seen by both');
    const first = postToolContext((await runHook('post-tool', hookInput('PostToolUse', 'first'), env)).stdout);
    const second = postToolContext((await runHook('post-tool', hookInput('PostToolUse', 'second'), env)).stdout);
    expect(shownIds(first)).toEqual([old, shared]);
    expect(shownIds(second)).toEqual([shared]);
  });

  it('a session whose SessionStart never ran starts from now, not from history', async () => {
    await publish('deploy.history', 'old news');
    expect((await runHook('prompt', hookInput('UserPromptSubmit', 'late'), env)).stdout).toBe('');
    const fresh = await publish('deploy.fresh', 'new news');
    expect(shownIds((await runHook('prompt', hookInput('UserPromptSubmit', 'late'), env)).stdout)).toEqual([fresh]);
  });

  it('caps the lines and names the rest: "N more: call wait_for_events"', async () => {
    await runHook('session-start', hookInput('SessionStart', 'busy'), env);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await publish('deploy.step', `step ${i} ${'x'.repeat(400)}`));
    const ctx = postToolContext((await runHook('post-tool', hookInput('PostToolUse', 'busy'), env)).stdout);
    expect(shownIds(ctx)).toEqual(ids.slice(0, 5));
    expect(ctx).toContain(`… 3 more: call wait_for_events {since: ${ids[4]}} to read them`);
    for (const line of ctx.split('\n')) expect(line.length).toBeLessThanOrEqual(240);
    expect((await runHook('post-tool', hookInput('PostToolUse', 'busy'), env)).stdout).toBe('');
  });

  it('parallel PostToolUse hooks of one session (parallel tool calls) show each event exactly once between them', async () => {
    await runHook('session-start', hookInput('SessionStart', 'parallel'), env);
    const ids = [await publish('deploy.a', 'a'), await publish('deploy.b', 'b'), await publish('deploy.c', 'c')];
    const runs = await Promise.all([1, 2, 3, 4].map(() => runHook('post-tool', hookInput('PostToolUse', 'parallel'), env)));
    const seen = runs.flatMap((r) => shownIds(postToolContext(r.stdout)));
    expect(seen).toEqual(ids);
  });

  it('events the agent already read with wait_for_events or list_events are not shown again by post-tool', async () => {
    const mcp = await McpTestClient.connect(d);
    try {
      const start = await runHook('session-start', hookInput('SessionStart', 'reader'), env);
      expect(start.code).toBe(0);
      const from = JSON.parse(readFileSync(join(d.home, 'hooks', 'cursors', 'reader.json'), 'utf8')).after as number;
      const a = await publish('deploy.read-a', 'read by the tool');
      const other = await publish('deploy.other', 'not asked for by the tool');
      const b = await publish('deploy.read-b', 'read by the tool too');
      // The agent waits for deploy.read-* only, then its PostToolUse hook runs with the real result.
      const args = { since: from, topics: ['deploy.read-*'], timeout_s: 5 };
      const waited = await mcp.raw('wait_for_events', args);
      expect((waited.structuredContent as { events: Ev[] }).events.map((e) => e.id)).toEqual([a, b]);
      const post = await runHook('post-tool', hookInput('PostToolUse', 'reader', { tool_name: 'mcp__fleet__wait_for_events', tool_input: args, tool_response: waited.content }), env);
      expect(shownIds(postToolContext(post.stdout))).toEqual([other]);

      // list_events likewise, with the result in the MCP shape ({content, structuredContent}).
      const c = await publish('deploy.listed', 'read by list_events');
      const d2 = await publish('deploy.unlisted', 'after the listing');
      const listed = await mcp.raw('list_events', { since: c - 1, limit: 1 });
      const post2 = await runHook('post-tool', hookInput('PostToolUse', 'reader', { tool_name: 'mcp__fleet__list_events', tool_input: { since: c - 1, limit: 1 }, tool_response: listed }), env);
      expect(shownIds(postToolContext(post2.stdout))).toEqual([d2]);
      expect((await runHook('post-tool', hookInput('PostToolUse', 'reader'), env)).stdout).toBe('');
    } finally {
      await mcp.close();
    }
  });

  it('a session id with path characters gets a safe file of its own under FLEET_HOME', async () => {
    const r = await runHook('session-start', hookInput('SessionStart', '../../escape/me'), env);
    expect(r.code).toBe(0);
    const name = (await import('node:fs')).readdirSync(join(d.home, 'hooks', 'cursors')).find((n) => n.startsWith('______escape_me.'));
    expect(name).toMatch(/^______escape_me\.[0-9a-f]{16}\.json$/);
  });

  it('bad stdin: no output, exit 0, a line in logs/hooks.log', async () => {
    for (const input of ['not json', '{"no_session": true}', '']) {
      const r = await runHook('post-tool', input, env);
      expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    }
    const log = readFileSync(join(d.home, 'logs', 'hooks.log'), 'utf8');
    expect(log).toContain('post-tool session=-: stdin is not JSON');
    expect(log).toContain('stdin JSON has no session_id');
  });

  it('a broken hooks section in config.json falls back to the defaults (with a log line) instead of failing the turn', async () => {
    const home = tempHome();
    writeFileSync(join(home, 'config.json'), JSON.stringify({ hooks: { minLevel: 'loud' } }));
    const r = await runHook('prompt', hookInput('UserPromptSubmit', 'x'), { FLEET_HOME: home });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(join(home, 'logs', 'hooks.log'), 'utf8')).toContain('hooks.minLevel must be one of debug, info, notice, warning, error');
  });
});

describe('daemon down', () => {
  it('every hook exits 0 at once with no output (stopped daemon, dead pid in server.json, refused port)', async () => {
    const d = await new FleetdProcess().start();
    const home = d.home;
    const url = d.url;
    await runHook('session-start', hookInput('SessionStart', 's'), { FLEET_HOME: home });
    await d.kill9(); // leaves server.json naming a dead pid
    try {
      for (const extra of [{}, { FLEET_URL: url }]) {
        for (const [name, event] of [['session-start', 'SessionStart'], ['prompt', 'UserPromptSubmit'], ['post-tool', 'PostToolUse'], ['stop', 'Stop']] as const) {
          const r = await runHook(name, hookInput(event, 's'), { FLEET_HOME: home, ...extra });
          expect(r, `${name} ${JSON.stringify(extra)}`).toMatchObject({ code: 0, stdout: '', stderr: '' });
          // "At once": far below the 8 s budget and the 50 s Stop wait, even on a loaded machine.
          expect(r.ms).toBeLessThan(5000);
        }
      }
      const log = readFileSync(join(home, 'logs', 'hooks.log'), 'utf8');
      expect(log).toMatch(/stop session=s: fleetd is not running on .* \(pid \d+ is gone\)/);
      expect(log).toMatch(/ECONNREFUSED/);
    } finally {
      await d.dispose();
    }
  });
});
