import type { Endpoint } from '../shared/client.js';
import { BridgeError, RPC } from './errors.js';
import { httpRequest, readText, sseMessages, type HttpResponse } from './http-client.js';
import { classify, idKey, type JsonRpcErrorObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from './jsonrpc.js';

/**
 * The wire side of MCP Streamable HTTP (2025-11-25) for one fleetd endpoint: POST a
 * message and read its answer (JSON or an SSE stream), open the standalone GET stream,
 * DELETE a session. Stateless: upstream.ts decides when and on which session.
 */

/** Which session a request belongs to (none for initialize). */
export interface SessionRef {
  id?: string;
  protocolVersion?: string;
}

/** What one POST produced. */
export interface Exchange {
  status: number;
  /** Mcp-Session-Id the daemon answered with (set on initialize). */
  sessionId?: string;
  /** The response to the posted request, when it came. */
  answer?: JsonRpcResponse;
  /** Last SSE id seen on the answer stream: where a resume would continue. */
  lastEventId?: string;
  /** Why the answer stream broke before the answer, when it did. */
  broken?: string;
  /** A non-2xx answer's JSON-RPC error (or one made from its text). */
  rejection?: JsonRpcErrorObject;
}

function headers(ep: Endpoint, session: SessionRef, extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { authorization: `Bearer ${ep.token}`, ...extra };
  if (session.id) h['mcp-session-id'] = session.id;
  if (session.protocolVersion) h['mcp-protocol-version'] = session.protocolVersion;
  return h;
}

/** Parses a JSON body or SSE data field into messages; garbage yields none. */
export function parseMessages(text: string): JsonRpcMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const out: JsonRpcMessage[] = [];
  for (const item of Array.isArray(value) ? value : [value]) {
    const c = classify(item);
    if (c.kind !== 'invalid') out.push(c.message);
  }
  return out;
}

/** Where the messages of one POST go. */
export interface PostHandlers {
  /** Messages before the answer: progress, server requests tied to the request. */
  onMessage: (m: JsonRpcMessage) => void;
  /** The answer, the moment it arrives (the stream's close may trail it). */
  onAnswer?: (m: JsonRpcResponse) => void;
  headers?: Record<string, string>;
  /** Ends the exchange early (a 2026-07-28 listen stream the client cancelled). */
  signal?: AbortSignal;
}

/**
 * POSTs one message and reads what comes back until the answer stream ends. Throws
 * HttpFailure when no response head arrived.
 */
export async function postMessage(ep: Endpoint, session: SessionRef, message: JsonRpcMessage, handlers: PostHandlers): Promise<Exchange> {
  const res = await httpRequest(`${ep.url}/mcp`, {
    method: 'POST',
    headers: headers(ep, session, { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...handlers.headers }),
    body: JSON.stringify(message),
    signal: handlers.signal,
  });
  const sid = res.headers['mcp-session-id'];
  const result: Exchange = { status: res.status, sessionId: typeof sid === 'string' ? sid : undefined };
  const wanted = 'id' in message && 'method' in message ? idKey(message.id) : undefined;
  const take = (m: JsonRpcMessage) => {
    if (wanted !== undefined && result.answer === undefined && !('method' in m) && m.id !== null && idKey(m.id) === wanted) {
      result.answer = m;
      handlers.onAnswer?.(m);
    } else handlers.onMessage(m);
  };
  if (res.status === 202) {
    res.body.resume();
    return result;
  }
  const type = String(res.headers['content-type'] ?? '');
  if (res.status >= 200 && res.status < 300 && type.startsWith('text/event-stream')) {
    try {
      // Read to the end rather than stop at the answer: the server closes the stream right
      // after it, and a body read to completion keeps the keep-alive socket reusable.
      for await (const sse of sseMessages(res.body)) {
        if (sse.id !== undefined) result.lastEventId = sse.id;
        if (sse.data) for (const m of parseMessages(sse.data)) take(m);
      }
      if (!result.answer && wanted !== undefined) result.broken = 'the answer stream ended without an answer';
    } catch (e) {
      if (!result.answer) result.broken = (e as Error).message;
      res.body.destroy();
    }
    return result;
  }
  const text = await readText(res.body).catch(() => '');
  if (res.status >= 200 && res.status < 300) {
    for (const m of parseMessages(text)) take(m);
    return result;
  }
  const err = parseMessages(text).find((m): m is JsonRpcResponse => !('method' in m) && m.error !== undefined)?.error;
  result.rejection = err ?? { code: RPC.daemonRejected, message: `fleetd answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  return result;
}

/** Opens the session's standalone GET stream (resuming after `lastEventId` when given). */
export function openStream(ep: Endpoint, session: SessionRef, lastEventId: string | undefined, signal: AbortSignal): Promise<HttpResponse> {
  return httpRequest(`${ep.url}/mcp`, {
    method: 'GET',
    headers: headers(ep, session, { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) }),
    signal,
  });
}

/**
 * Reads a resumed stream (GET with the Last-Event-ID of a broken answer stream) until the
 * answer to `id` arrives; returns it, or undefined when the stream cannot give it.
 */
export async function resumeAnswer(ep: Endpoint, session: SessionRef, lastEventId: string, id: JsonRpcId, onMessage: (m: JsonRpcMessage) => void): Promise<JsonRpcResponse | undefined> {
  const ctl = new AbortController();
  try {
    const res = await openStream(ep, session, lastEventId, ctl.signal);
    if (res.status !== 200) {
      res.body.resume();
      return undefined;
    }
    const wanted = idKey(id);
    for await (const sse of sseMessages(res.body)) {
      for (const m of sse.data ? parseMessages(sse.data) : []) {
        if (!('method' in m) && m.id !== null && idKey(m.id) === wanted) return m;
        onMessage(m);
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    ctl.abort();
  }
}

/** Ends a session (DELETE /mcp); best effort, bounded. */
export async function deleteSession(ep: Endpoint, session: SessionRef, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const res = await httpRequest(`${ep.url}/mcp`, { method: 'DELETE', headers: headers(ep, session), idleTimeoutMs: timeoutMs });
    res.body.resume();
    return res.status;
  } catch {
    return undefined;
  }
}

/**
 * The newest fleet event id (GET /status): where a replacement session resumes from when
 * this bridge has delivered no event yet. Also proves the token; 401 throws.
 */
export async function newestEventId(ep: Endpoint): Promise<number | undefined> {
  const res = await httpRequest(`${ep.url}/status`, { method: 'GET', headers: { authorization: `Bearer ${ep.token}`, accept: 'application/json' }, idleTimeoutMs: 5000 });
  const text = await readText(res.body).catch(() => '');
  if (res.status === 401) throw new BridgeError('rejected', `fleetd at ${ep.url} rejected the token (check FLEET_HOME/token, --token-file or FLEET_TOKEN)`, RPC.daemonRejected);
  if (res.status !== 200) return undefined;
  try {
    const id = (JSON.parse(text) as { lastEventId?: unknown }).lastEventId;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}
