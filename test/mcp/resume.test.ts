import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { RawMcpSession } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

/** Fleet events carried by notifications/message on an /mcp stream, with their SSE ids. */
function fleetNotifications(sse: SseClient): { sseId: number; id: number; message: string }[] {
  return sse.messages
    .filter((m) => m.data)
    .map((m) => ({ sseId: Number(m.id), msg: JSON.parse(m.data) as { method?: string; params?: { logger?: string; data?: { id: number; message: string } } } }))
    .filter((x) => x.msg.method === 'notifications/message' && x.msg.params?.logger === 'fleet')
    .map((x) => ({ sseId: x.sseId, id: x.msg.params!.data!.id, message: x.msg.params!.data!.message }));
}

async function publishMany(fleetd: FleetdProcess, prefix: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(((await (await fleetd.publish('test.resume', `${prefix}-${i}`)).json()) as { id: number }).id);
  return ids;
}

describe('resumable /mcp GET stream', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  it('replays every notification missed while the GET stream was cut, once and in order', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const first = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    expect(first.status).toBe(200);
    const before = await publishMany(fleetd, 'before', 5);
    await first.waitFor('the first five', () => fleetNotifications(first).length >= 5);
    expect(fleetNotifications(first).map((n) => n.id)).toEqual(before);
    const lastSeen = fleetNotifications(first).at(-1)!.sseId;
    first.close();

    const missed = await publishMany(fleetd, 'missed', 20);
    const second = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders(String(lastSeen))).open();
    expect(second.status).toBe(200);
    const after = await publishMany(fleetd, 'after', 3);
    await second.waitFor('missed and new notifications', () => fleetNotifications(second).some((n) => n.id === after.at(-1)));
    expect(fleetNotifications(second).map((n) => n.id)).toEqual([...missed, ...after]);
    second.close();
  });

  it('heads a new GET stream with a priming id, so a drop before any notification can still resume', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const sse = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    await sse.waitFor('the priming event', () => sse.messages.length > 0);
    const priming = sse.messages[0]!;
    expect(priming.id).toMatch(/^\d+$/);
    expect(priming.data).toBe('');
    sse.close();
    const missed = await publishMany(fleetd, 'after-priming', 3);
    const resumed = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders(priming.id)).open();
    await resumed.waitFor('three missed notifications', () => fleetNotifications(resumed).length >= 3);
    expect(fleetNotifications(resumed).map((n) => n.id)).toEqual(missed);
    // The priming event itself is never replayed as a message.
    expect(resumed.messages.filter((m) => m.data === '')).toHaveLength(0);
    resumed.close();
  });

  it('a second GET for a session replaces the first instead of failing with 409', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const a = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    await a.waitFor('priming on the first stream', () => a.messages.length > 0);
    const b = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    expect(b.status).toBe(200);
    await a.done; // the first stream is ended by the server
    const [id] = await publishMany(fleetd, 'replaced', 1);
    await b.waitFor('the event on the new stream', () => fleetNotifications(b).some((n) => n.id === id));
    expect(fleetNotifications(a)).toHaveLength(0);
    b.close();
  });

  it("refuses a Last-Event-ID that is malformed or belongs to another session (never replays another session's messages)", async () => {
    const s1 = await new RawMcpSession(fleetd).initialize();
    const s2 = await new RawMcpSession(fleetd).initialize();
    const a = await new SseClient(`${fleetd.url}/mcp`, s1.getHeaders()).open();
    await a.waitFor('priming', () => a.messages.length > 0);
    const foreignId = a.messages[0]!.id!;
    a.close();
    for (const bad of ['abc', '-1', foreignId]) {
      const res = await fetch(`${fleetd.url}/mcp`, { headers: s2.getHeaders(bad) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: number; message: string } };
      expect(body.error.message).toMatch(/Last-Event-ID/);
    }
  });

  it('answers 404 for an unknown session and 400 without a session, so clients re-initialize', async () => {
    const s = new RawMcpSession(fleetd);
    s.sessionId = '00000000-0000-0000-0000-000000000000';
    const res = await s.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    const none = await new RawMcpSession(fleetd).post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(none.status).toBe(400);
  });

  it('DELETE ends a session: later requests get 404 and its stream closes', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const sse = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    await sse.waitFor('priming', () => sse.messages.length > 0);
    const del = await fetch(`${fleetd.url}/mcp`, { method: 'DELETE', headers: s.headers() });
    expect(del.status).toBe(200);
    await sse.done;
    expect((await s.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' })).status).toBe(404);
  });
});
