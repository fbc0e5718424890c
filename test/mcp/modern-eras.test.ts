import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { ModernTestClient } from '../helpers/modern-mcp.js';

const DISCOVER = {
  jsonrpc: '2.0',
  id: 1,
  method: 'server/discover',
  params: {
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'probe', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
};

function postDiscover(fleetd: FleetdProcess): Promise<Response> {
  return fleetd.fetch('/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' },
    body: JSON.stringify(DISCOVER),
  });
}

describe('MCP 2026-07-28 beside 2025-11-25 on /mcp (mcp.modern on)', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
  });
  afterAll(() => fleetd.dispose());

  it('answers server/discover with 2026-07-28, the tools and the event resources', async () => {
    const res = await postDiscover(fleetd);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const body = (await res.json()) as { result: { supportedVersions: string[]; capabilities: Record<string, unknown> } };
    expect(body.result.supportedVersions).toContain('2026-07-28');
    expect(body.result.capabilities).toMatchObject({ tools: {}, resources: { subscribe: true } });
  });

  it('a pinned SDK v2 client lists the same tools, calls one and reads events from a cursor', async () => {
    const modern = await ModernTestClient.connect(fleetd);
    const legacy = await McpTestClient.connect(fleetd);
    try {
      expect(modern.client.getProtocolEra()).toBe('modern');
      // Its instructions speak of what reaches it: resources and listen streams, not the session's push.
      const instructions = modern.client.getInstructions() ?? '';
      expect(instructions).toContain('fleet://events');
      expect(instructions).toContain('fleet://events/task/<id>');
      expect(instructions).not.toMatch(/pushed to this client|this session|to the session that started/);
      expect(legacy.client.getInstructions()).toContain('notifications/message');
      const names = (await modern.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual((await legacy.client.listTools()).tools.map((t) => t.name).sort());
      expect(names).toEqual(expect.arrayContaining(['wait_for_events', 'list_events', 'publish_event', 'execute_command']));

      const start = await modern.read('fleet://events');
      expect(start.events).toEqual([]);
      const published = await modern.call<{ event: { id: number } }>('publish_event', { topic: 'modern.hello', message: 'hi from 2026-07-28', subject: 'web-1' });
      // The 2025 session on the same endpoint still gets its push.
      await legacy.waitForPushed('modern.hello', (ev) => ev.some((e) => e.id === published.event.id));

      const page = await modern.read(`fleet://events?after=${start.cursor}&topics=modern.*`);
      expect(page.events.map((e) => e.id)).toEqual([published.event.id]);
      expect(page.cursor).toBe(published.event.id);
      expect((await modern.read(`fleet://events/topic/modern?after=${start.cursor}`)).events.map((e) => e.id)).toEqual([published.event.id]);
      expect((await modern.read(`fleet://events/member/web-1?after=${start.cursor}`)).events.map((e) => e.id)).toEqual([published.event.id]);
      expect((await modern.read(`fleet://events/topic/other?after=${start.cursor}`)).events).toEqual([]);

      // No session: wait_for_events and list_events take the cursor as an argument.
      const waited = await modern.call<{ events: { id: number }[]; cursor: number }>('wait_for_events', { since: start.cursor, topics: ['modern.*'], timeout_s: 5 });
      expect(waited.events.map((e) => e.id)).toEqual([published.event.id]);
      const listed = await modern.call<{ events: { id: number }[] }>('list_events', { since: start.cursor, topics: ['modern.*'] });
      expect(listed.events.map((e) => e.id)).toEqual([published.event.id]);

      const { resources } = await modern.client.listResources();
      expect(resources.map((r) => r.uri)).toContain('fleet://events');
      const { resourceTemplates } = await modern.client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(expect.arrayContaining(['fleet://events{?after,topics}', 'fleet://events/task/{id}{?after}']));
    } finally {
      await modern.close();
      await legacy.close();
    }
  });

  it('a listen stream subscribed to a topic resource is told of each matching event, with its id', async () => {
    const c = await ModernTestClient.connect(fleetd);
    try {
      const sub = await c.listen(['fleet://events/topic/listen']);
      expect(sub.honoredFilter.resourceSubscriptions).toEqual(['fleet://events/topic/listen']);
      await fleetd.publish('other.topic', 'not for it');
      const a = (await (await fleetd.publish('listen.a', 'one')).json()) as { id: number };
      const b = (await (await fleetd.publish('listen.b.c', 'two')).json()) as { id: number };
      await c.waitForUpdates('two updates', (u) => u.length >= 2);
      expect(c.updates).toEqual([
        { uri: 'fleet://events/topic/listen', eventId: a.id },
        { uri: 'fleet://events/topic/listen', eventId: b.id },
      ]);
      await sub.close();
    } finally {
      await c.close();
    }
  });

  it('initialize and session requests keep the 2025-11-25 path (session id, GET stream)', async () => {
    const c = await McpTestClient.connect(fleetd);
    try {
      expect(c.sessionId).toMatch(/[0-9a-f-]{36}/);
      expect(c.client.getServerCapabilities()?.logging).toBeDefined();
      const p = (await (await fleetd.publish('legacy.ping', 'still pushed')).json()) as { id: number };
      await c.waitForPushed('legacy.ping', (ev) => ev.some((e) => e.id === p.id));
    } finally {
      await c.close();
    }
  });
});

describe('MCP with mcp.modern off (the default)', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  it('answers server/discover with a 400 that is no modern error, so dual-era clients fall back to initialize', async () => {
    const res = await postDiscover(fleetd);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number } };
    expect([-32022, -32020, -32602, -32601]).not.toContain(body.error.code);
  });
});
