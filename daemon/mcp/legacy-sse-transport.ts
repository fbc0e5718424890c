import { isSpecType, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';

const encoder = new TextEncoder();
/** How long a client waits before reconnecting a dropped stream (the SSE `retry:` field). */
const RETRY_MS = 1000;

/**
 * The legacy MCP HTTP+SSE transport (spec 2024-11-05), web-standard: GET /sse opens a
 * stream whose first event names the POST endpoint; client messages arrive by POST and
 * every server message goes down the stream as `event: message`.
 */
export class LegacySseTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private keepAlive?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly sessionId: string,
    private readonly endpoint: string,
    private readonly keepAliveMs: number,
    /** Past this many unread bytes the client is taken to have stopped reading and is cut off. */
    private readonly maxUnreadBytes: number,
    private readonly cutOff: () => void = () => {},
  ) {}

  /** The streaming response for GET /sse. */
  response(): Response {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        // retry: as on /events, so a client that drops reconnects after 1 s, not its own default (3 s in mcp-remote's EventSource).
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n\nevent: endpoint\ndata: ${this.endpoint}\n\n`));
        this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), this.keepAliveMs);
        this.keepAlive.unref();
      },
      cancel: () => void this.close(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));
    return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } });
  }

  async start(): Promise<void> {}

  /** Hands a POSTed message (or a batch, as the 2024-11-05 spec allows) to the server; throws when one is not JSON-RPC. */
  receive(raw: unknown): void {
    const messages: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (!messages.every((m) => isSpecType.JSONRPCMessage(m))) throw new Error('not a JSON-RPC 2.0 message');
    for (const m of messages) this.onmessage?.(m as JSONRPCMessage);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`)) throw new Error('SSE stream is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    try {
      this.controller?.close();
    } catch {
      /* already closed by the client */
    }
    this.onclose?.();
  }

  private write(text: string): boolean {
    if (this.closed || !this.controller) return false;
    try {
      this.controller.enqueue(encoder.encode(text));
    } catch {
      return false;
    }
    // This transport has no resume, and the stream queue grows without bound for a client
    // that stopped reading: drop the queue and end the session (its client may reconnect).
    if ((this.controller.desiredSize ?? 0) < -this.maxUnreadBytes) {
      this.controller.error(new Error('client stopped reading'));
      this.controller = undefined;
      this.cutOff();
      void this.close();
      return false;
    }
    return true;
  }
}
