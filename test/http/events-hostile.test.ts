import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../shared/events.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { SseClient } from '../helpers/sse.js';

let d: FleetdProcess;
const clients: SseClient[] = [];

beforeAll(async () => {
  d = await new FleetdProcess().start();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await d?.dispose();
});

async function sse(query: string): Promise<SseClient> {
  const c = await new SseClient(`${d.url}/events${query}`, d.auth).open();
  clients.push(c);
  expect(c.status).toBe(200);
  return c;
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) v = { d: v };
  return v;
}

describe('topic globs from a token holder', () => {
  it('match in linear time: a pathological glob neither freezes other clients nor mismatches', async () => {
    const hostile = await sse('?topic=*a*a*a*a*a*a*a*a*a*b');
    const bystander = await sse('');
    const started = Date.now();
    const miss = (await (await d.publish('a'.repeat(120), 'no b at the end')).json()) as FleetEvent;
    const hit = (await (await d.publish(`${'a'.repeat(119)}b`, 'ends in b')).json()) as FleetEvent;
    await bystander.waitFor('both events on the unfiltered stream', (events) => events.some((e) => e.id === hit.id));
    await hostile.waitFor('the matching event on the pathological stream', (events) => events.some((e) => e.id === hit.id));
    // The backtracking regex took about 10 s per event; a generous bound, not a speed goal.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(bystander.events.map((e) => e.id)).toEqual([miss.id, hit.id]);
    expect(hostile.events.map((e) => e.id)).toEqual([hit.id]);
    // Replay through the log applies the same glob.
    const page = (await (await d.fetch(`/events?since=${miss.id - 1}&topic=*a*a*a*a*a*a*a*a*a*b`, { headers: { accept: 'application/json' } })).json()) as {
      events: FleetEvent[];
    };
    expect(page.events.map((e) => e.id)).toEqual([hit.id]);
  });

  it('are bounded in count and length with a 400 bad_topic that names the limit', async () => {
    const many = Array.from({ length: 1500 }, (_, i) => `t${i}.*`).join(',');
    for (const accept of ['application/json', 'text/event-stream']) {
      const tooMany = await errorOf(await d.fetch(`/events?topic=${many}`, { headers: { accept } }));
      expect(tooMany).toMatchObject({ status: 400, code: 'bad_topic' });
      expect(tooMany.message).toMatch(/too many topic globs \(1500\): give at most 64/);
    }
    const tooLong = await errorOf(await d.fetch(`/events?topic=${'a*'.repeat(100)}`, { headers: { accept: 'application/json' } }));
    expect(tooLong).toMatchObject({ status: 400, code: 'bad_topic' });
    expect(tooLong.message).toMatch(/200 characters long: at most 128 are accepted/);
    const sixtyFour = Array.from({ length: 64 }, (_, i) => `t${i}.*`).join(',');
    expect((await d.fetch(`/events?topic=${sixtyFour}`, { headers: { accept: 'application/json' } })).status).toBe(200);
  });

  it('are bounded the same way for wait_for_events and list_events', async () => {
    const mcp = await McpTestClient.connect(d);
    try {
      const topics = Array.from({ length: 65 }, (_, i) => `t${i}.*`);
      for (const tool of ['wait_for_events', 'list_events']) {
        const r = await mcp.raw(tool, { topics, since: 0, timeout_s: 0 });
        expect(r.isError, tool).toBe(true);
        expect((r.content[0] as { text: string }).text).toMatch(/too many topic globs \(65\): give at most 64/);
      }
    } finally {
      await mcp.close();
    }
  });
});

describe('publishing', () => {
  it('refuses a too-deep event alone: every concurrent good publish is stored, every deep one gets 400', { timeout: 120_000 }, async () => {
    // Built as text: JSON.stringify itself gives up on a value this deep (which is the bug).
    const deep = `${'{"d":'.repeat(4999)}{"leaf":true}${'}'.repeat(4999)}`;
    const jobs = Array.from({ length: 600 }, (_, i) =>
      i % 100 === 7
        ? d.fetch('/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"topic":"test.deep","message":"deep ${i}","data":${deep}}` }).then((res) => ({ kind: 'deep' as const, res }))
        : d.publish('test.good', `good ${i}`, { data: { i } }).then((res) => ({ kind: 'good' as const, res })),
    );
    const results = await Promise.all(jobs);
    const good: FleetEvent[] = [];
    for (const { kind, res } of results) {
      if (kind === 'good') {
        expect(res.status).toBe(201);
        good.push((await res.json()) as FleetEvent);
      } else {
        const err = await errorOf(res);
        expect(err).toMatchObject({ status: 400, code: 'bad_event' });
        expect(err.message).toMatch(/more than 64 levels deep/);
      }
    }
    expect(good).toHaveLength(594);
    const stored = new Set<number>();
    let cursor = Math.min(...good.map((e) => e.id)) - 1;
    for (;;) {
      const page = (await (await d.fetch(`/events?since=${cursor}&topic=test.*&limit=10000`, { headers: { accept: 'application/json' } })).json()) as {
        events: FleetEvent[];
        cursor: number;
      };
      if (page.events.length === 0) break;
      for (const e of page.events) {
        expect(e.topic).toBe('test.good');
        stored.add(e.id);
      }
      cursor = page.cursor;
    }
    for (const e of good) expect(stored.has(e.id)).toBe(true);
  });

  it('accepts data nested up to the limit', async () => {
    expect((await d.publish('test.nested', 'at the limit', { data: nested(64) })).status).toBe(201);
    expect((await d.publish('test.nested', 'past the limit', { data: nested(65) })).status).toBe(400);
  });

  it('refuses a body that is not a JSON object, and data that is not one, with 400', async () => {
    for (const body of ['[]', '"x"', 'null', '42', '[{"topic":"a.b","message":"m"}]']) {
      const err = await errorOf(await d.fetch('/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
      expect(err, body).toMatchObject({ status: 400, code: 'bad_event' });
    }
    expect((await errorOf(await d.publish('test.x', 'm', { data: [1, 2] }))).code).toBe('bad_event');
  });

  it('refuses reserved topics in any letter case, over HTTP and MCP', async () => {
    for (const topic of ['FLEET.x', 'Member.online', 'TASK.completed', 'Fleet']) {
      const err = await errorOf(await d.publish(topic, 'spoof'));
      expect(err, topic).toMatchObject({ status: 400, code: 'reserved_topic' });
    }
    const mcp = await McpTestClient.connect(d);
    try {
      const r = await mcp.raw('publish_event', { topic: 'Member.online', message: 'spoof' });
      expect(r.isError).toBe(true);
      expect((r.content[0] as { text: string }).text).toMatch(/reserved for fleetd/);
    } finally {
      await mcp.close();
    }
  });
});
