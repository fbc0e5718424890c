import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { SseParser } from '../../../shared/sse-parser.js';
import type { TaskExtension } from './task-extension.js';

type Rpc = { id?: string | number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: unknown };

/** Methods the tasks extension may claim; every other message goes straight to the SDK. */
const CLAIMABLE = new Set(['tasks/get', 'tasks/update', 'tasks/cancel', 'subscriptions/listen', 'tools/call']);

/**
 * The tasks extension on stdio: a transport in front of the SDK's stdio transport that hands
 * each message the extension claims to the same TaskExtension the HTTP endpoint uses. The
 * extension speaks Fetch (Request in, Response out), so a claimed line becomes a POST Request
 * and its Response (JSON, or an SSE listen stream) is written back as lines; a task-eligible
 * tools/call still runs in the SDK, whose answer is caught on its way out and turned into a
 * CreateTaskResult by the extension.
 */
export class TaskFrontTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  /** Task listen streams open here, by request id: aborting one ends its stream. */
  private readonly listens = new Map<string | number, AbortController>();
  /** tools/call answers the extension waits for (the SDK's answer, caught before it is written). */
  private readonly awaited = new Map<string | number, (reply: Rpc) => void>();

  constructor(
    private readonly inner: Transport,
    private readonly ext: TaskExtension,
    private readonly maxListens: number,
  ) {}

  start(): Promise<void> {
    this.inner.onmessage = (m, extra) => this.incoming(m as Rpc, extra);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (e) => this.onerror?.(e);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as Rpc;
    const waiter = m.id !== undefined && !('method' in m) ? this.awaited.get(m.id) : undefined;
    if (waiter) {
      this.awaited.delete(m.id!);
      waiter(m);
      return Promise.resolve();
    }
    return this.inner.send(message, options);
  }

  async close(): Promise<void> {
    for (const ac of this.listens.values()) ac.abort();
    await this.inner.close();
  }

  private incoming(m: Rpc, extra?: MessageExtraInfo): void {
    if (m.method === 'notifications/cancelled') {
      const ac = this.listens.get(m.params?.requestId as string | number);
      if (ac) return ac.abort();
    }
    if (m.id === undefined || !CLAIMABLE.has(m.method ?? '') || typeof m.params !== 'object' || m.params === null) return this.onmessage?.(m as JSONRPCMessage, extra);
    void this.claim(m, extra).catch((e: unknown) => this.onerror?.(e as Error));
  }

  /** Offers a request to the extension; the SDK serves it when the extension does not. */
  private async claim(m: Rpc, extra?: MessageExtraInfo): Promise<void> {
    const id = m.id!;
    const ac = new AbortController();
    // No headers: stdio has no Mcp-Name to cross-check.
    const req = new Request('http://stdio/mcp', { method: 'POST', body: JSON.stringify(m), signal: ac.signal });
    const forward = () =>
      new Promise<Response>((resolve) => {
        this.awaited.set(id, (reply) => resolve(Response.json(reply)));
        this.onmessage?.(m as JSONRPCMessage, extra);
      });
    const refused = () => (this.listens.size < this.maxListens ? undefined : Response.json({ jsonrpc: '2.0', id, error: { code: -32603, message: 'Subscription limit reached' } }));
    const res = await this.ext.handle(req, m as Record<string, unknown>, forward, refused);
    if (!res) return this.onmessage?.(m as JSONRPCMessage, extra);
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) return this.inner.send((await res.json()) as JSONRPCMessage);
    this.listens.set(id, ac);
    try {
      await this.relaySse(res.body);
    } finally {
      this.listens.delete(id);
    }
  }

  /** Writes each message of an SSE body as a line, until the stream ends. */
  private async relaySse(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        for (const frame of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (frame.data) await this.inner.send(JSON.parse(frame.data) as JSONRPCMessage);
        }
      }
    } catch {
      // cancelled by the client, or stdout gone
    }
  }
}
