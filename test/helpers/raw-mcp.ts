import { SseParser } from '../../shared/sse-parser.js';
import type { FleetdProcess } from './fleetd.js';

export const PROTOCOL = '2025-11-25';

/** Reads a POST /mcp answer, which the SDK sends as JSON or as a short SSE stream. */
export async function readRpcAnswer(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return new SseParser()
      .push(text.endsWith('\n\n') ? text : `${text}\n\n`)
      .filter((m) => m.data)
      .map((m) => JSON.parse(m.data));
  }
  return text ? [JSON.parse(text)].flat() : [];
}

/** A hand-driven MCP session over plain fetch, for tests that need exact control of streams. */
export class RawMcpSession {
  sessionId = '';
  constructor(readonly fleetd: FleetdProcess) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.fleetd.auth,
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': PROTOCOL,
      ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      ...extra,
    };
  }

  post(body: unknown, extra: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.fleetd.url}/mcp`, { method: 'POST', headers: this.headers(extra), body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  /** initialize + notifications/initialized. */
  async initialize(extra: Record<string, string> = {}): Promise<this> {
    const res = await this.post(
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
      extra,
    );
    if (res.status !== 200) throw new Error(`initialize answered ${res.status}: ${await res.text()}`);
    this.sessionId = res.headers.get('mcp-session-id') ?? '';
    await readRpcAnswer(res);
    const ack = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`initialized answered ${ack.status}`);
    return this;
  }

  /** Headers for the standalone GET stream (no JSON content type). */
  getHeaders(lastEventId?: string): Record<string, string> {
    const h = this.headers({ accept: 'text/event-stream' });
    delete h['content-type'];
    if (lastEventId !== undefined) h['last-event-id'] = lastEventId;
    return h;
  }
}
