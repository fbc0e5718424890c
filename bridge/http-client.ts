import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { SseParser, type SseMessage } from '../shared/sse-parser.js';

/**
 * A thin HTTP/1.1 client on node:http with keep-alive. Not fetch: node:http is already
 * loaded with Node while undici costs ~14 ms on first use, and a plain request adds less
 * latency per call, which is the bridge's whole cost.
 */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Fails the request when the socket is idle this long (control requests only, never streams). */
  idleTimeoutMs?: number;
}

/** Socket errors that prove the request never reached a server, so sending it again is safe. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A request that failed without an answer; `delivered` is false only when it surely never arrived. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly delivered: boolean,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const agents = new Map<string, http.Agent>();

async function transportFor(url: string): Promise<{ request: typeof http.request; agent: http.Agent }> {
  const secure = url.startsWith('https:');
  // https is loaded only for an https --url: the daemon itself serves plain http on loopback.
  const mod = secure ? ((await import('node:https')) as unknown as typeof http) : http;
  let agent = agents.get(secure ? 'https' : 'http');
  if (!agent) {
    agent = new mod.Agent({ keepAlive: true, keepAliveMsecs: 10_000 });
    agents.set(secure ? 'https' : 'http', agent);
  }
  return { request: mod.request, agent };
}

/** Sends one request; resolves when the response head arrives (the body is left to the caller). */
export async function httpRequest(url: string, init: HttpRequest): Promise<HttpResponse> {
  const { request, agent } = await transportFor(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const req = request(url, { method: init.method, headers, agent, signal: init.signal }, (res) => {
      if (init.idleTimeoutMs !== undefined) req.setTimeout(0);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? (e.name === 'AbortError' ? 'ABORT_ERR' : 'EUNKNOWN');
      // A reset on a reused keep-alive socket with no answer yet is the stale-socket race
      // (the daemon died while the socket sat idle, before the bridge noticed): Node's
      // documented case for a retry. fleetd answers a POST's head as soon as it reads the
      // request, so a request it did read almost always fails later, with a head in hand.
      const staleSocket = req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
      reject(new HttpFailure(`${init.method} ${url}: ${e.message}`, code, !NOT_DELIVERED.has(code) && !staleSocket));
    });
    if (init.idleTimeoutMs !== undefined) {
      req.setTimeout(init.idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${init.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    }
    req.end(init.body);
  });
}

/** Reads a whole response body as text, up to `limit` bytes. */
export async function readText(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res as AsyncIterable<string>) {
    text += chunk;
    if (text.length > limit) {
      res.destroy();
      throw new Error(`response body over ${limit} bytes`);
    }
  }
  return text;
}

/**
 * Yields the server-sent events of a text/event-stream body as they arrive. With `idleMs`,
 * a stream that carries nothing at all (not even a keep-alive comment) for that long is
 * destroyed, so a hung daemon or a dead path ends the loop instead of stalling it forever.
 */
export async function* sseMessages(res: IncomingMessage, idleMs?: number): AsyncGenerator<SseMessage> {
  res.setEncoding('utf8');
  const parser = new SseParser();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (idleMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => res.destroy(new Error(`no data from fleetd for ${Math.round(idleMs / 1000)} s`)), idleMs);
    timer.unref();
  };
  arm();
  try {
    for await (const chunk of res as AsyncIterable<string>) {
      arm();
      for (const message of parser.push(chunk)) yield message;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Closes idle keep-alive sockets so the process can exit promptly. */
export function closeIdleSockets(): void {
  for (const agent of agents.values()) agent.destroy();
}
