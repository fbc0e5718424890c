import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';

let d: FleetdProcess;

beforeAll(async () => {
  d = await new FleetdProcess().start();
});

afterAll(async () => {
  await d?.dispose();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request over node:http, which (unlike fetch) lets a test set Host and stream a body without a length. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer | (() => AsyncIterable<Buffer>),
  agent?: Agent,
): Promise<RawResponse> {
  const url = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        // An SSE stream that was let through never ends by itself: enough to know it opened.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', (e) => reject(e));
    if (typeof body === 'function') {
      (async () => {
        for await (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(() => req.destroy());
    } else {
      req.end(body);
    }
  });
}

const ROUTES: [string, string][] = [
  ['GET', '/events'],
  ['GET', '/events?since=0'],
  ['POST', '/events'],
  ['GET', '/status'],
  ['GET', '/mcp'],
  ['POST', '/mcp'],
  ['DELETE', '/mcp'],
  ['GET', '/sse'],
  ['POST', '/messages?sessionId=x'],
  ['GET', '/no/such/route'],
];

/**
 * The error a body carries, as { code, message }: on /mcp and /messages a JSON-RPC error
 * (fleet's code in error.data.code), elsewhere the REST shape.
 */
function errorOf(body: string, path = ''): { code: string; message: string } {
  if (/^\/(mcp|messages)\b/.test(path)) {
    const rpc = JSON.parse(body) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: { code: string } } };
    expect(rpc.jsonrpc, path).toBe('2.0');
    expect(rpc.id, path).toBeNull();
    expect(typeof rpc.error.code, path).toBe('number');
    expect(typeof rpc.error.message, path).toBe('string');
    return { code: rpc.error.data.code, message: rpc.error.message };
  }
  const parsed = JSON.parse(body) as { error: { code: string; message: string } };
  expect(typeof parsed.error.code).toBe('string');
  expect(typeof parsed.error.message).toBe('string');
  return parsed.error;
}

describe('authentication', () => {
  it('answers 401 on every route but /health without a token', async () => {
    for (const [method, path] of ROUTES) {
      const res = await raw(method, path, { 'content-type': 'application/json' }, method === 'POST' ? '{"topic":"a.b","message":"m"}' : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(errorOf(res.body, path)).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/missing bearer token/) });
    }
  });

  it('answers 401 with a wrong token and never echoes the token presented', async () => {
    const wrong = `${d.token.slice(0, -4)}WXYZ`;
    for (const presented of [wrong, 'not-the-token-7f3a9c', d.token + d.token]) {
      for (const [method, path] of ROUTES) {
        const res = await raw(method, path, { authorization: `Bearer ${presented}`, 'content-type': 'application/json' }, method === 'POST' ? '{}' : undefined);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(errorOf(res.body, path).message).toMatch(/wrong bearer token/);
        expect(res.body).not.toContain(presented);
        expect(JSON.stringify(res.headers)).not.toContain(presented);
      }
    }
    // Other schemes or a bare token are not a bearer token.
    for (const header of [`Basic ${Buffer.from(`u:${d.token}`).toString('base64')}`, d.token, `Bearer`]) {
      const res = await raw('GET', '/status', { authorization: header });
      expect(res.status, header).toBe(401);
      expect(res.body).not.toContain(d.token);
    }
  });

  it('lets /health through without a token, and says nothing secret there', async () => {
    const res = await raw('GET', '/health');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', name: 'fleetd' });
    expect(res.body).not.toContain(d.token);
    expect(res.body).not.toContain(d.home);
  });

  it('accepts the right token', async () => {
    expect((await raw('GET', '/status', d.auth)).status).toBe(200);
    expect((await raw('GET', '/status', { authorization: `bearer ${d.token}` })).status).toBe(200);
  });
});

describe('DNS rebinding guard', () => {
  it('answers 403 to a foreign Host, even with the right token', async () => {
    const port = new URL(d.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `10.0.0.1:${port}`]) {
      for (const [method, path] of [['GET', '/status'], ['GET', '/events'], ['POST', '/events'], ['POST', '/mcp']] as const) {
        const res = await raw(method, path, { ...d.auth, host, 'content-type': 'application/json' }, method === 'POST' ? '{"topic":"a.b","message":"m"}' : undefined);
        expect(res.status, `${method} ${path} Host: ${host}`).toBe(403);
        expect(errorOf(res.body, path).code).toBe('forbidden_host');
      }
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await raw('GET', '/status', { ...d.auth, host })).status, host).toBe(200);
    }
  });

  it('answers 403 to a foreign Origin, even with the right token', async () => {
    for (const origin of ['http://evil.example', 'https://evil.example:443', 'http://127.0.0.1.evil.example', 'null', 'file://', 'not a url']) {
      for (const [method, path] of [['GET', '/status'], ['GET', '/events'], ['POST', '/events']] as const) {
        const res = await raw(method, path, { ...d.auth, origin, 'content-type': 'application/json' }, method === 'POST' ? '{"topic":"a.b","message":"m"}' : undefined);
        expect(res.status, `${method} ${path} Origin: ${origin}`).toBe(403);
        expect(errorOf(res.body).code).toBe('forbidden_origin');
      }
    }
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1', 'https://[::1]:8443']) {
      expect((await raw('GET', '/status', { ...d.auth, origin })).status, origin).toBe(200);
    }
  });
});

describe('body limit', () => {
  const big = JSON.stringify({ topic: 'big.body', message: 'm', data: { pad: 'x'.repeat(1024 * 1024 + 10) } });

  it('answers 413 to a declared body over 1 MiB', async () => {
    const res = await raw('POST', '/events', { ...d.auth, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, big);
    expect(res.status).toBe(413);
    expect(errorOf(res.body)).toMatchObject({ code: 'body_too_large', message: expect.stringMatching(/1048576/) });
  });

  it('answers 413 to a streamed (chunked) body over 1 MiB', async () => {
    const res = await raw('POST', '/events', { ...d.auth, 'content-type': 'application/json' }, async function* () {
      const buf = Buffer.from(big);
      for (let i = 0; i < buf.length; i += 64 * 1024) yield buf.subarray(i, i + 64 * 1024);
    });
    expect(res.status).toBe(413);
    expect(errorOf(res.body).code).toBe('body_too_large');
  });

  it('keeps a keep-alive connection usable for the next request after a 413', async () => {
    // One socket, reused: a 413 must not poison the request that follows it on the same connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const headers = { ...d.auth, 'content-type': 'application/json' };
      const small = JSON.stringify({ topic: 'after.413', message: 'fine' });
      for (let i = 0; i < 3; i++) {
        expect((await raw('POST', '/events', headers, big, agent)).status).toBe(413);
        expect((await raw('POST', '/events', headers, small, agent)).status).toBe(201);
        const chunked = await raw('POST', '/events', headers, async function* () {
          yield Buffer.from(big);
        }, agent);
        expect(chunked.status).toBe(413);
        expect((await raw('POST', '/events', headers, small, agent)).status).toBe(201);
      }
    } finally {
      agent.destroy();
    }
  });

  it('takes a body just under the limit', async () => {
    const ok = JSON.stringify({ topic: 'big.body', message: 'm', data: { pad: 'x'.repeat(1000 * 1000) } });
    const res = await raw('POST', '/events', { ...d.auth, 'content-type': 'application/json' }, ok);
    expect(res.status).toBe(201);
  });
});

describe('bad input gets 400 with a message that says what was wrong', () => {
  const get = (path: string, headers: Record<string, string> = {}) => raw('GET', path, { ...d.auth, accept: 'text/event-stream', ...headers });
  const post = (body: string) => raw('POST', '/events', { ...d.auth, 'content-type': 'application/json' }, body);

  it('bad Last-Event-ID', async () => {
    for (const id of ['abc', '-1', '1.5', '12abc', '1e3', '9'.repeat(20)]) {
      const res = await get('/events', { 'last-event-id': id });
      expect(res.status, id).toBe(400);
      expect(errorOf(res.body)).toMatchObject({ code: 'bad_last_event_id', message: expect.stringMatching(/Last-Event-ID.*event id/) });
    }
    const ahead = await get('/events', { 'last-event-id': '999999999' });
    expect(ahead.status).toBe(400);
    expect(errorOf(ahead.body).message).toMatch(/newer than the newest event/);
  });

  it('bad since', async () => {
    for (const since of ['yesterday', '2026-01-02T03:04:05', '10 minutes', '-5', '5y']) {
      const res = await get(`/events?since=${encodeURIComponent(since)}`);
      expect(res.status, since).toBe(400);
      expect(errorOf(res.body)).toMatchObject({ code: 'bad_since', message: expect.stringMatching(/event id.*ISO 8601.*duration/) });
    }
    const json = await raw('GET', '/events?since=nope', { ...d.auth, accept: 'application/json' });
    expect(json.status).toBe(400);
    expect(errorOf(json.body).code).toBe('bad_since');
  });

  it('bad topic glob', async () => {
    for (const topic of ['a..b', 'member.[a-z]', '.x', 'a b', 'a/b']) {
      const res = await get(`/events?topic=${encodeURIComponent(topic)}`);
      expect(res.status, topic).toBe(400);
      expect(errorOf(res.body)).toMatchObject({ code: 'bad_topic', message: expect.stringMatching(/bad topic glob/) });
    }
  });

  it('bad JSON body', async () => {
    for (const body of ['{', 'not json', '']) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(errorOf(res.body)).toMatchObject({ code: 'bad_json', message: expect.stringMatching(/not valid JSON/) });
    }
  });

  it('bad event fields', async () => {
    const cases: [unknown, RegExp][] = [
      [{ topic: 'a.b' }, /message/],
      [{ message: 'm' }, /topic/],
      [{ topic: 'a..b', message: 'm' }, /topic/],
      [{ topic: 'a.b', message: 'm', level: 'loud' }, /level/],
      [{ topic: 'a.b', message: 'm', id: 5 }, /id|unrecognized/i],
      [{ topic: 'a.b', message: 'm', data: 'text' }, /data/],
      [[1, 2], /body|expected object/i],
    ];
    for (const [body, re] of cases) {
      const res = await post(JSON.stringify(body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = errorOf(res.body);
      expect(err.code).toBe('bad_event');
      expect(err.message).toMatch(re);
    }
  });

  it('reserved topic', async () => {
    for (const topic of ['member.online', 'task.completed', 'credential.stored', 'ci.status', 'file.changed', 'fleet.gap', 'fleet']) {
      const res = await post(JSON.stringify({ topic, message: 'spoof' }));
      expect(res.status, topic).toBe(400);
      expect(errorOf(res.body)).toMatchObject({ code: 'reserved_topic', message: expect.stringMatching(/reserved.*own prefix/) });
    }
  });

  it('bad limit on a JSON page', async () => {
    for (const limit of ['0', 'ten', '100001', '-1']) {
      const res = await raw('GET', `/events?since=0&limit=${limit}`, { ...d.auth, accept: 'application/json' });
      expect(res.status, limit).toBe(400);
      expect(errorOf(res.body).code).toBe('bad_limit');
    }
  });
});

describe('after all of that', () => {
  it('keeps serving, and logged no unexpected error', async () => {
    expect(d.proc.exitCode).toBeNull();
    expect((await raw('GET', '/health')).status).toBe(200);
    const res = await d.publish('still.alive', 'yes');
    expect(res.status).toBe(201);
    const status = (await (await d.fetch('/status')).json()) as { lastEventId: number };
    expect(status.lastEventId).toBe(((await res.json()) as { id: number }).id);
    expect(d.stderr).not.toMatch(/unexpected error|Unhandled|TypeError/);
  });
});
