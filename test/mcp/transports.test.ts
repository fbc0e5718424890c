import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

describe('MCP transports', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  for (const kind of ['http', 'sse'] as const) {
    it(`${kind}: lists tools, calls them, and receives a published event as a notification`, async () => {
      const c = await McpTestClient.connect(fleetd, kind);
      try {
        const { tools } = await c.client.listTools();
        expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['wait_for_events', 'list_events', 'publish_event', 'fleet_status']));
        expect(c.client.getServerCapabilities()?.logging).toBeDefined();
        expect(c.client.getInstructions()).toContain('wait_for_events');

        const status = await c.call<{ version: string; mcpSessions: number; lastEventId: number }>('fleet_status');
        expect(status.mcpSessions).toBeGreaterThanOrEqual(1);

        const res = await fleetd.publish('test.ping', `hello over ${kind}`, { subject: 'probe', data: { n: 1 } });
        expect(res.status).toBe(201);
        const published = (await res.json()) as { id: number };
        await c.waitForPushed('test.ping', (ev) => ev.some((e) => e.id === published.id));
        const got = c.pushed.find((e) => e.id === published.id)!;
        expect(got).toMatchObject({ topic: 'test.ping', message: `hello over ${kind}`, level: 'info', subject: 'probe', data: { n: 1 } });
      } finally {
        await c.close();
      }
    });
  }

  it('wait_for_events returns what this session has not seen, then continues from its own cursor', async () => {
    const c = await McpTestClient.connect(fleetd);
    try {
      const a = (await (await fleetd.publish('test.cursor', 'first')).json()) as { id: number };
      const first = await c.call<{ events: { id: number }[]; cursor: number }>('wait_for_events', { topics: ['test.cursor'], timeout_s: 10 });
      expect(first.events.map((e) => e.id)).toEqual([a.id]);
      const b = (await (await fleetd.publish('test.cursor', 'second')).json()) as { id: number };
      const second = await c.call<{ events: { id: number }[]; cursor: number }>('wait_for_events', { topics: ['test.cursor'], timeout_s: 10 });
      expect(second.events.map((e) => e.id)).toEqual([b.id]);
      expect(second.cursor).toBe(b.id);
      // A wait that starts before the publish returns as soon as the event exists.
      const pending = c.call<{ events: { id: number; message: string }[] }>('wait_for_events', { topics: ['test.cursor'], timeout_s: 30 });
      const started = Date.now();
      const d = (await (await fleetd.publish('test.cursor', 'third')).json()) as { id: number };
      const third = await pending;
      expect(third.events.map((e) => e.id)).toEqual([d.id]);
      expect(Date.now() - started).toBeLessThan(20_000);
      // Nothing pending: a short wait times out empty, with the cursor unchanged.
      const empty = await c.call<{ events: unknown[]; timedOut: boolean; cursor: number }>('wait_for_events', { topics: ['test.cursor'], timeout_s: 0.2 });
      expect(empty).toMatchObject({ events: [], timedOut: true, cursor: d.id });
    } finally {
      await c.close();
    }
  });

  it('list_events reads history by since, topic and subject; publish_event refuses reserved topics', async () => {
    const c = await McpTestClient.connect(fleetd);
    try {
      const before = (await c.call<{ lastEventId: number }>('fleet_status')).lastEventId;
      await c.call('publish_event', { topic: 'test.hist', message: 'one', subject: 's1' });
      await c.call('publish_event', { topic: 'test.hist', message: 'two', subject: 's2' });
      const all = await c.call<{ events: { message: string }[] }>('list_events', { since: before, topics: ['test.*'] });
      expect(all.events.map((e) => e.message)).toEqual(['one', 'two']);
      const s2 = await c.call<{ events: { message: string }[] }>('list_events', { since: before, subject: 's2' });
      expect(s2.events.map((e) => e.message)).toEqual(['two']);
      const reserved = await c.raw('publish_event', { topic: 'member.fake', message: 'x' });
      expect(reserved.isError).toBe(true);
      expect((reserved.content[0] as { text: string }).text).toMatch(/reserved/);
      const badSince = await c.raw('list_events', { since: 'yesterday' });
      expect(badSince.isError).toBe(true);
      expect((badSince.content[0] as { text: string }).text).toMatch(/bad since/);
    } finally {
      await c.close();
    }
  });
});
