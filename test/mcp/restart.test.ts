import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { RawMcpSession } from '../helpers/raw-mcp.js';

describe('MCP across a daemon crash', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  it('after kill -9 and restart the old session gets 404; a new one resumes wait_for_events from its cursor with nothing lost', async () => {
    const c = await McpTestClient.connect(fleetd);
    await fleetd.publish('test.crash', 'seen before the crash');
    const seen = await c.call<{ cursor: number }>('wait_for_events', { topics: ['test.crash'], timeout_s: 10 });
    const cursor = seen.cursor;
    const raw = new RawMcpSession(fleetd);
    raw.sessionId = c.sessionId!;
    const unseen = (await (await fleetd.publish('test.crash', 'published after the cursor, before the crash')).json()) as { id: number };

    await fleetd.kill9();
    await c.close().catch(() => undefined);
    await fleetd.start();
    const during: number[] = [];
    for (let i = 0; i < 5; i++) during.push(((await (await fleetd.publish('test.crash', `after restart ${i}`)).json()) as { id: number }).id);

    raw.fleetd.url = fleetd.url; // the restarted daemon may listen on another port
    const stale = await raw.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' });
    expect(stale.status).toBe(404);

    const again = await McpTestClient.connect(fleetd);
    try {
      const got: number[] = [];
      let since = cursor;
      while (got.length < 6) {
        const r = await again.call<{ events: { id: number }[]; cursor: number }>('wait_for_events', { since, topics: ['test.crash'], timeout_s: 10 });
        if (r.events.length === 0) break;
        got.push(...r.events.map((e) => e.id));
        since = r.cursor;
      }
      expect(got).toEqual([unseen.id, ...during]);
      const restarted = await again.call<{ events: { topic: string }[] }>('list_events', { since: cursor, topics: ['fleet.*'] });
      expect(restarted.events.map((e) => e.topic)).toContain('fleet.started');
    } finally {
      await again.close();
    }
  });
});
