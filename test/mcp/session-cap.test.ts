import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { RawMcpSession, readRpcAnswer } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

describe('MCP session cap (mcp.maxSessions)', () => {
  let fleetd: FleetdProcess;
  const streams: SseClient[] = [];
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { maxSessions: 3 } } }).start();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await fleetd.dispose();
  });

  const listTools = async (s: RawMcpSession) => (await s.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' })).status;
  const openStream = async (s: RawMcpSession) => {
    const stream = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    expect(stream.status).toBe(200);
    streams.push(stream);
    return stream;
  };
  const distinctMs = () => new Promise((r) => setTimeout(r, 20)); // lastSeen has millisecond resolution

  it('expires the idlest session without a stream to admit a new one, then refuses with a clear 503 when every session holds a stream', async () => {
    const a = await new RawMcpSession(fleetd).initialize();
    const b = await new RawMcpSession(fleetd).initialize();
    await openStream(b);
    const c = await new RawMcpSession(fleetd).initialize();
    await distinctMs();
    expect(await listTools(a)).toBe(200); // a is now more recent than c: c is the idlest without a stream

    const d = await new RawMcpSession(fleetd).initialize();
    const gone = await c.post({ jsonrpc: '2.0', id: 8, method: 'tools/list' });
    expect(gone.status).toBe(404);
    expect(JSON.stringify(await readRpcAnswer(gone))).toMatch(/Session not found/);
    for (const s of [a, b, d]) expect(await listTools(s)).toBe(200);

    // Every session holds a stream now: nothing may be expired, so a newcomer is refused.
    await openStream(a);
    const dStream = await openStream(d);
    const refused = await new RawMcpSession(fleetd).post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'late', version: '1' } },
    });
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: Record<string, unknown> } };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32004, data: { code: 'too_many_sessions', maxSessions: 3 } } });
    expect(body.error.message).toMatch(/3 MCP sessions.*mcp\.maxSessions.*config\.json.*DELETE \/mcp/);
    const legacy = await fetch(`${fleetd.url}/sse`, { headers: { ...fleetd.auth, accept: 'text/event-stream' } });
    expect(legacy.status).toBe(503);
    expect(((await legacy.json()) as { error: { code: number } }).error.code).toBe(-32004);

    // The daemon keeps serving the sessions it has, streams included.
    for (const s of [a, b, d]) expect(await listTools(s)).toBe(200);
    expect((await fleetd.publish('cap.test', 'still pushing')).status).toBe(201);
    await streams[0]!.waitFor('the event on a held stream', (events) => events.some((e) => JSON.stringify(e).includes('still pushing')));
    const status = (await (await fleetd.fetch('/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ mcpSessions: 3, mcpMaxSessions: 3 });

    // A stream that closes makes its session expirable again.
    dStream.close();
    await until('a session to be admitted once a stream closed', async () => {
      const s = new RawMcpSession(fleetd);
      return (await s.initialize().then(() => true, () => undefined)) ?? undefined;
    }, 10_000, 200);
    expect((await d.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' })).status).toBe(404);
  });
});
