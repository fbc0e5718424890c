import { SseParser } from '../../shared/sse-parser.js';
import type { FleetdProcess } from './fleetd.js';
import { readRpcAnswer } from './raw-mcp.js';

export const TASKS_EXT = 'io.modelcontextprotocol/tasks';

/** The header that mirrors a request's name (tools/call's tool, tasks/*'s task id). */
function nameOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return params.name as string;
  if (method.startsWith('tasks/')) return params.taskId as string;
  if (method === 'resources/read') return params.uri as string;
  return undefined;
}

/** The 2026-07-28 `_meta` envelope of a request, declaring these extensions in its client capabilities. */
export function envelope(extensions: Record<string, object>): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'fleet-raw-test', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': Object.keys(extensions).length ? { extensions } : {},
  };
}

/** A JSON-RPC answer: result or error, with the HTTP status it came with. */
export interface RpcAnswer {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * Hand-made MCP 2026-07-28 requests over fetch, for what the SDK v2 client does not speak
 * (the tasks extension): each request carries its `_meta` envelope, declaring `extensions`
 * in its client capabilities when asked.
 */
export class ModernRaw {
  private nextId = 1;
  constructor(
    readonly fleetd: FleetdProcess,
    readonly extensions: Record<string, object> = {},
  ) {}

  private request(method: string, params: Record<string, unknown>, extraHeaders: Record<string, string> = {}): { id: number; init: RequestInit } {
    const id = this.nextId++;
    const _meta = envelope(this.extensions);
    const name = nameOf(method, params);
    const headers: Record<string, string> = {
      ...this.fleetd.auth,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
      ...extraHeaders,
    };
    return { id, init: { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta } }) } };
  }

  /** Sends one request and returns its answer. */
  async call(method: string, params: Record<string, unknown> = {}, headers?: Record<string, string>): Promise<RpcAnswer> {
    const { id, init } = this.request(method, params, headers);
    const res = await fetch(`${this.fleetd.url}/mcp`, init);
    const reply = (await readRpcAnswer(res)).find((m) => m.id === id) as Omit<RpcAnswer, 'status'> | undefined;
    if (!reply) throw new Error(`no answer to ${method} (HTTP ${res.status})`);
    return { status: res.status, ...reply };
  }

  /** Opens a subscriptions/listen stream with this filter. */
  async listen(notifications: Record<string, unknown>): Promise<ListenStream> {
    const { id, init } = this.request('subscriptions/listen', { notifications });
    const ac = new AbortController();
    const res = await fetch(`${this.fleetd.url}/mcp`, { ...init, signal: ac.signal });
    return new ListenStream(id, res, ac);
  }
}

/** Messages as they arrive, with waits for the one a test expects. */
export class MessageLog {
  readonly messages: Record<string, unknown>[] = [];
  ended = false;
  private waiters: (() => void)[] = [];

  /** Records messages (or the end) and wakes the waits. */
  protected arrived(messages: Record<string, unknown>[], ended = false): void {
    this.messages.push(...messages);
    if (ended) this.ended = true;
    this.waiters.splice(0).forEach((w) => w());
  }

  /** The params of the notifications with this method. */
  notes(method: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.method === method).map((m) => m.params as Record<string, unknown>);
  }

  /** Waits until a notification with `method` matches `pred`; returns its params. */
  async waitFor(method: string, pred: (p: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.notes(method).find(pred);
      if (hit) return hit;
      if (this.ended) throw new Error(`listen stream ended before ${method}; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${method}; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await this.next(left);
    }
  }

  /** Resolves when something arrives, or after `ms`. */
  protected next(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }
}

/** A listen stream's messages as they arrive. */
export class ListenStream extends MessageLog {
  constructor(
    readonly id: number,
    readonly res: Response,
    private readonly ac: AbortController,
  ) {
    super();
    void this.read();
  }

  private async read(): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.res.body as unknown as AsyncIterable<Uint8Array>) {
        this.arrived(parser.push(decoder.decode(chunk, { stream: true })).flatMap((m) => (m.data ? [JSON.parse(m.data) as Record<string, unknown>] : [])));
      }
    } catch {
      // aborted
    }
    this.arrived([], true);
  }

  close(): void {
    this.ac.abort();
  }
}
