import { SseParser, type SseMessage } from '../../shared/sse-parser.js';

/** A raw SSE connection for tests: collects messages and lets a test await them. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  private readonly ac = new AbortController();
  private waiters: (() => void)[] = [];
  status = 0;
  ended = false;
  done!: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** Opens the stream; resolves once response headers arrived. */
  async open(): Promise<this> {
    const res = await fetch(this.url, { headers: { accept: 'text/event-stream', ...this.headers }, signal: this.ac.signal });
    this.status = res.status;
    if (!res.ok || !res.body) return this;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          this.messages.push(...parser.push(decoder.decode(chunk, { stream: true })));
          this.waiters.splice(0).forEach((w) => w());
        }
      } catch {
        /* aborted */
      }
      this.ended = true;
      this.waiters.splice(0).forEach((w) => w());
    })();
    return this;
  }

  /** Event messages (with data), parsed. */
  get events(): { id: number; topic: string; message: string; [k: string]: unknown }[] {
    // Only JSON payloads are events (legacy MCP streams also carry an `endpoint` path).
    return this.messages.filter((m) => m.data.startsWith('{')).map((m) => JSON.parse(m.data));
  }

  /** Waits until `pred` holds over the received events, or fails after `timeoutMs`. */
  async waitFor(what: string, pred: (events: this['events']) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (this.ended) throw new Error(`stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.events.length} events`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.ac.abort();
  }
}
