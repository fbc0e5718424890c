import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';

let d: FleetdProcess;

beforeAll(async () => {
  d = await new FleetdProcess().start();
});

afterAll(async () => {
  await d?.dispose();
});

/** One request over node:http (fetch cannot set Host); resolves with status, headers and body. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

interface RpcBody {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string; data: { code: string } };
}

describe('refusals on MCP routes are JSON-RPC errors (what MCP clients can show)', () => {
  it('401 on /mcp and /messages carries a JSON-RPC error and keeps WWW-Authenticate', async () => {
    for (const [path, authorization] of [['/mcp', undefined], ['/mcp', 'Bearer wrong-token'], ['/messages?sessionId=x', undefined]] as const) {
      const res = await send('POST', path, { ...JSON_HEADERS, ...(authorization ? { authorization } : {}) }, INIT);
      expect(res.status, path).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="fleetd"/);
      expect(String(res.headers['content-type'])).toMatch(/application\/json/);
      const body = JSON.parse(res.body) as RpcBody;
      expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32005, data: { code: 'unauthorized' } } });
      expect(body.error.message).toMatch(/bearer token.*FLEET_HOME\/token/);
    }
  });

  it('403 for a foreign Host or Origin on /mcp and /messages carries a JSON-RPC error', async () => {
    for (const path of ['/mcp', '/messages?sessionId=x']) {
      const host = await send('POST', path, { ...JSON_HEADERS, ...d.auth, host: 'evil.example' }, INIT);
      expect(host.status, path).toBe(403);
      expect(JSON.parse(host.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32006, data: { code: 'forbidden_host' } } });
      const origin = await send('POST', path, { ...JSON_HEADERS, ...d.auth, origin: 'http://evil.example' }, INIT);
      expect(origin.status, path).toBe(403);
      expect(JSON.parse(origin.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32006, data: { code: 'forbidden_origin' } } });
    }
  });

  it('413 on /mcp carries a JSON-RPC error', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1024 * 1024 + 10) } });
    const res = await send('POST', '/mcp', { ...JSON_HEADERS, ...d.auth, 'content-length': String(Buffer.byteLength(big)) }, big);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32007, data: { code: 'body_too_large' } } });
  });

  it('other routes keep the REST error shape', async () => {
    for (const path of ['/events', '/status', '/sse']) {
      const res = await send('GET', path, {});
      expect(res.status, path).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.parse(res.body), path).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/missing bearer token/) } });
    }
    const host = await send('GET', '/status', { ...d.auth, host: 'evil.example' });
    expect(JSON.parse(host.body)).toEqual({ error: { code: 'forbidden_host', message: expect.any(String) } });
  });
});

describe('legacy /sse stream', () => {
  it('tells the client to reconnect after 1 s (retry:), like /events, before the endpoint event', async () => {
    const ac = new AbortController();
    try {
      const res = await fetch(`${d.url}/sse`, { headers: { ...d.auth, accept: 'text/event-stream' }, signal: ac.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('event: endpoint')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toMatch(/^retry: 1000\n\n/);
      expect(text).toMatch(/event: endpoint\ndata: \/messages\?sessionId=/);
    } finally {
      ac.abort();
    }
  });
});
