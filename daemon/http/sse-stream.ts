import type { ServerResponse } from 'node:http';
import type { EventFeed } from '../events/event-feed.js';
import { PAGE_BYTES, type LogRow } from '../events/event-log.js';

// Live rows are shared by every subscriber, so each frame is encoded once for all of them.
const frameCache = new WeakMap<LogRow, Buffer>();

/** The SSE frame of one event: id, event (topic) and data (the event JSON, one line). */
export function sseFrame(row: LogRow): string {
  return `id: ${row.id}\nevent: ${row.topic}\ndata: ${row.json}\n\n`;
}

function encodeRows(rows: LogRow[]): Buffer {
  if (rows.length === 1) {
    const row = rows[0]!;
    let bytes = frameCache.get(row);
    if (!bytes) frameCache.set(row, (bytes = Buffer.from(sseFrame(row))));
    return bytes;
  }
  let text = '';
  for (const row of rows) text += sseFrame(row);
  return Buffer.from(text);
}

export interface SseOptions {
  keepAliveMs: number;
  retryMs: number;
  /** Rows read from the log per write while replaying. */
  pageSize?: number;
  /** Bytes of event JSON per write (at least one event, however large). */
  pageBytes?: number;
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

// Streams with something to write, pumped together once the current commit has answered its publishers.
const due = new Set<() => void>();
let dueScheduled = false;
function runDue(): void {
  dueScheduled = false;
  const pumps = [...due];
  due.clear();
  for (const pump of pumps) pump();
}

/**
 * Serves a feed as an SSE stream written straight to Node's response: no web stream and no
 * promise per event and per client, so fan-out to many clients costs one shared encoded
 * frame and one socket write each. Reading is driven by the socket: the feed is read only
 * while the socket takes more (a replay of millions of events holds one page in memory),
 * and live events wake the stream after their commit. A client that stopped reading (its
 * socket is full) when its live queue overflows is cut off; one that is merely behind
 * catches up from the log.
 */
export function serveSse(feed: EventFeed, res: ServerResponse, registry: StreamRegistry, opts: SseOptions): void {
  const pageSize = opts.pageSize ?? 1000;
  const pageBytes = opts.pageBytes ?? PAGE_BYTES;
  let closed = false;
  let ending = false;
  let waitingForDrain = false;
  let wroteSinceTick = true;

  const schedule = () => {
    if (closed) return;
    due.add(pump);
    if (!dueScheduled) {
      dueScheduled = true;
      setImmediate(runDue);
    }
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    due.delete(pump);
    unregister();
    feed.close();
  };
  const onDrain = () => {
    waitingForDrain = false;
    pump();
  };
  function pump(): void {
    if (closed || waitingForDrain) return;
    try {
      for (;;) {
        if (res.writableNeedDrain) {
          waitingForDrain = true;
          res.once('drain', onDrain);
          return;
        }
        const rows = feed.next(pageSize, pageBytes);
        if (rows.length === 0) break;
        res.write(encodeRows(rows));
        wroteSinceTick = true;
      }
      if (ending || registry.stopping) {
        finish();
        res.end();
      }
    } catch (err) {
      // Whatever went wrong belongs to this stream alone: end it (the client resumes by its
      // last id) and leave the daemon and every other stream running.
      console.error(`fleetd: event stream at cursor ${feed.cursor} failed and was closed: ${(err as Error).message}`);
      finish();
      res.destroy();
    }
  }

  const unregister = registry.add(() => {
    ending = true;
    schedule();
  });
  feed.setWakeHandler(schedule);
  feed.setOverflowHandler(() => {
    // Overflow while the socket still holds unsent bytes means the client stopped reading,
    // unless the stream is replaying: then a full socket is normal, and the live queue
    // was only ever a shortcut (the replay reads the same events from the log).
    if (res.writableNeedDrain && !feed.isReplaying) {
      finish();
      res.destroy();
    }
  });
  res.on('close', finish);
  // A comment when nothing else was sent for a while keeps proxies and clients from timing out.
  const keepAlive = setInterval(() => {
    if (!wroteSinceTick && !res.writableNeedDrain) res.write(': keep-alive\n\n');
    wroteSinceTick = false;
  }, Math.max(1, Math.floor(opts.keepAliveMs / 2)));
  keepAlive.unref();

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // The starting cursor as an id-only frame: a client that drops before its first event
  // still resumes from here instead of from "now" (no data, so no event is dispatched).
  res.write(`retry: ${opts.retryMs}\n: fleetd event stream\n\nid: ${feed.cursor}\n\n`);
  pump();
}
