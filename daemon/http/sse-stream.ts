import type { EventFeed } from '../events/event-feed.js';
import type { LogRow } from '../events/event-log.js';

const encoder = new TextEncoder();
// Live rows are shared by every subscriber, so each frame is encoded once for all of them.
const frameCache = new WeakMap<LogRow, Uint8Array>();

/** The SSE frame of one event: id, event (topic) and data (the event JSON, one line). */
export function sseFrame(row: LogRow): string {
  return `id: ${row.id}\nevent: ${row.topic}\ndata: ${row.json}\n\n`;
}

function encodeRows(rows: LogRow[]): Uint8Array {
  if (rows.length === 1) {
    const row = rows[0]!;
    let bytes = frameCache.get(row);
    if (!bytes) frameCache.set(row, (bytes = encoder.encode(sseFrame(row))));
    return bytes;
  }
  return encoder.encode(rows.map(sseFrame).join(''));
}

export interface SseStreamOptions {
  keepAliveMs: number;
  retryMs: number;
  /** Ends the connection at once; used when the client stopped reading and fell behind. */
  cutOff: () => void;
}

/** Open SSE streams, so shutdown can end them after their last events. */
export class StreamRegistry {
  private readonly enders = new Set<() => void>();
  stopping = false;

  add(end: () => void): () => void {
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  get size(): number {
    return this.enders.size;
  }

  /** Asks every stream to finish: each sends what it has queued, then closes. */
  endAll(): void {
    this.stopping = true;
    for (const end of [...this.enders]) end();
  }
}

/**
 * Turns a feed into an SSE byte stream. Pull-based: the feed is read only when the socket
 * has room, so a replay of millions of events holds one page in memory at a time.
 */
export function sseStream(feed: EventFeed, registry: StreamRegistry, opts: SseStreamOptions): ReadableStream<Uint8Array> {
  let ending = false;
  let stopWaiting: AbortController | undefined;
  let unregister = () => {};
  const finish = () => {
    unregister();
    feed.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        unregister = registry.add(() => {
          ending = true;
          stopWaiting?.abort();
        });
        feed.setOverflowHandler(() => {
          // Overflow while the consumer still has unread bytes queued means it stopped reading.
          if ((controller.desiredSize ?? 1) <= 0) {
            finish();
            opts.cutOff();
          }
        });
        controller.enqueue(encoder.encode(`retry: ${opts.retryMs}\n: fleetd event stream\n\n`));
      },
      async pull(controller) {
        for (;;) {
          if (feed.closed) return; // cancelled by the client, or cut off
          const rows = feed.next(1000);
          if (rows.length > 0) {
            controller.enqueue(encodeRows(rows));
            return;
          }
          if (ending || registry.stopping) {
            finish();
            controller.close();
            return;
          }
          stopWaiting = new AbortController();
          const timer = setTimeout(() => stopWaiting?.abort(), opts.keepAliveMs);
          timer.unref();
          const signal = stopWaiting.signal;
          await feed.wait(signal);
          clearTimeout(timer);
          if (signal.aborted && !ending && !registry.stopping) {
            controller.enqueue(encoder.encode(': keep-alive\n\n'));
            return;
          }
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 1 },
  );
}
