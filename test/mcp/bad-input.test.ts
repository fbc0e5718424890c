import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { RawMcpSession, readRpcAnswer } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

type RpcError = { jsonrpc: string; error: { code: number; message: string }; id: unknown };

describe('/mcp and /messages under bad input', () => {
  let fleetd: FleetdProcess;
  let s: RawMcpSession;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
    s = await new RawMcpSession(fleetd).initialize();
  });
  afterAll(() => fleetd.dispose());

  it('garbage bodies get a JSON-RPC parse error, with and without a session', async () => {
    for (const body of ['{{not json', '', '\u0000\u0001']) {
      const withSession = await s.post(body);
      expect(withSession.status).toBe(400);
      expect(((await withSession.json()) as RpcError).error.code).toBe(-32700);
      const fresh = await new RawMcpSession(fleetd).post(body);
      expect(fresh.status).toBe(400);
      expect(((await fresh.json()) as RpcError).error.code).toBe(-32700);
    }
  });

  it('JSON that is not JSON-RPC is refused with a JSON-RPC error, not a crash', async () => {
    for (const body of [42, '"text"', { foo: 1 }, [], [1, 2], { jsonrpc: '1.0', id: 1, method: 'x' }]) {
      const res = await s.post(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const err = (await res.json()) as RpcError;
      expect(err.jsonrpc).toBe('2.0');
      expect(err.error.code).toBe(-32600);
    }
  });

  it('an oversized batch is refused; an unknown method gets -32601', async () => {
    const batch = Array.from({ length: 5000 }, (_, i) => ({ jsonrpc: '2.0', id: i + 10, method: 'tools/list' }));
    const res = await s.post(batch);
    expect(res.status).toBe(400);
    expect(((await res.json()) as RpcError).error).toMatchObject({ code: -32600, message: expect.stringMatching(/at most/) });
    const unknown = await s.post({ jsonrpc: '2.0', id: 77, method: 'no/such/method' });
    const [answer] = (await readRpcAnswer(unknown)) as RpcError[];
    expect(answer!.id).toBe(77);
    expect(answer!.error.code).toBe(-32601);
  });

  it('bodies over the limit get 413 on /mcp and /messages', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    expect((await s.post(huge)).status).toBe(413);
    const res = await fetch(`${fleetd.url}/messages?sessionId=x`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' }, body: huge });
    expect(res.status).toBe(413);
  });

  it('wrong or missing token gets 401, a foreign Origin or Host 403, on every MCP route', async () => {
    for (const [method, path] of [['POST', '/mcp'], ['GET', '/mcp'], ['DELETE', '/mcp'], ['GET', '/sse'], ['POST', '/messages?sessionId=x']] as const) {
      const none = await fetch(`${fleetd.url}${path}`, { method, headers: { accept: 'text/event-stream, application/json' } });
      expect(none.status, `${method} ${path} without token`).toBe(401);
      const wrong = await fetch(`${fleetd.url}${path}`, { method, headers: { authorization: 'Bearer not-the-token-123' } });
      expect(wrong.status, `${method} ${path} wrong token`).toBe(401);
      expect(await wrong.text()).not.toContain('not-the-token-123');
      const origin = await fetch(`${fleetd.url}${path}`, { method, headers: { ...fleetd.auth, origin: 'https://evil.example' } });
      expect(origin.status, `${method} ${path} foreign origin`).toBe(403);
    }
    const host = await new Promise<number>((resolve, reject) => {
      const u = new URL(fleetd.url);
      const req = request({ host: u.hostname, port: u.port, path: '/mcp', method: 'POST', headers: { ...fleetd.auth, host: 'attacker.example:80', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(host).toBe(403);
  });

  it('legacy /messages: unknown or missing session is refused; garbage gets a parse error, non-JSON-RPC an invalid-request error', async () => {
    const unknown = await fetch(`${fleetd.url}/messages?sessionId=nope`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    const missing = await fetch(`${fleetd.url}/messages`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(400);
    const sse = await new SseClient(`${fleetd.url}/sse`, fleetd.auth).open();
    try {
      await sse.waitFor('the endpoint event', () => sse.messages.some((m) => m.event === 'endpoint'));
      const endpoint = sse.messages.find((m) => m.event === 'endpoint')!.data;
      expect(endpoint).toMatch(/^\/messages\?sessionId=/);
      const post = (body: string) => fetch(`${fleetd.url}${endpoint}`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' }, body });
      const garbage = await post('{{');
      expect(garbage.status).toBe(400);
      expect(((await garbage.json()) as RpcError).error.code).toBe(-32700);
      const notRpc = await post('{"hello":"world"}');
      expect(notRpc.status).toBe(400);
      expect(((await notRpc.json()) as RpcError).error.code).toBe(-32600);
    } finally {
      sse.close();
    }
  });

  it('keeps serving after all of it', async () => {
    const c = await McpTestClient.connect(fleetd);
    try {
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
    const tools = await readRpcAnswer(await s.post({ jsonrpc: '2.0', id: 99, method: 'tools/list' }));
    expect(tools[0]).toMatchObject({ id: 99 });
  });
});
