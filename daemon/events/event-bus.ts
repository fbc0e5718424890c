import type { FleetEvent, TopicFilter } from '../../shared/events.js';
import type { LogRow } from './event-log.js';

/** A committed event with its row (JSON text), shared by all readers so it is serialized once. */
export interface BusEvent {
  event: FleetEvent;
  row: LogRow;
}

/** Most JSON (in characters) one reader's live queue holds before it overflows, whatever its event bound. */
export const LIVE_QUEUE_CHARS = 64 * 1024 * 1024;

/**
 * One reader's bounded queue on the bus. When the queue would exceed its bound (in events, or
 * LIVE_QUEUE_CHARS of JSON) the subscription stops taking events and is marked `overflowed`:
 * the reader must catch up from the log by its last id. The publisher never waits for it.
 */
export class Subscription {
  private queue: BusEvent[] = [];
  private queuedChars = 0;
  overflowed = false;

  constructor(
    private readonly bus: EventBus,
    private readonly filter: TopicFilter | undefined,
    private readonly bound: number,
    private readonly notify: () => void,
  ) {}

  /** Called by the bus for every committed event. */
  offer(item: BusEvent): void {
    if (this.overflowed || (this.filter && !this.filter(item.event.topic))) return;
    const chars = item.row.json.length;
    if (this.queue.length >= this.bound || (this.queue.length > 0 && this.queuedChars + chars > LIVE_QUEUE_CHARS)) {
      this.overflowed = true;
      this.queue = [];
      this.queuedChars = 0;
      this.bus.remove(this);
    } else {
      this.queue.push(item);
      this.queuedChars += chars;
    }
    this.notify();
  }

  /**
   * Takes the oldest queued events: at most `maxRows`, and no more than `maxChars` of JSON
   * (but always at least one), so a reader's page stays bounded; the rest stay queued.
   */
  drain(maxRows = Infinity, maxChars = Infinity): BusEvent[] {
    let n = 0;
    let chars = 0;
    while (n < this.queue.length && n < maxRows) {
      const size = this.queue[n]!.row.json.length;
      if (n > 0 && chars + size > maxChars) break;
      chars += size;
      n++;
    }
    this.queuedChars -= chars;
    if (n === this.queue.length) {
      const out = this.queue;
      this.queue = [];
      this.queuedChars = 0;
      return out;
    }
    return this.queue.splice(0, n);
  }

  get size(): number {
    return this.queue.length;
  }

  /** Leaves the bus. */
  close(): void {
    this.queue = [];
    this.queuedChars = 0;
    this.bus.remove(this);
  }
}

/** In-process live fan-out of committed events to any number of bounded subscriptions. */
export class EventBus {
  private readonly subs = new Set<Subscription>();

  /** Delivers one event to every subscription; O(subscribers), never blocks. */
  publish(item: BusEvent): void {
    for (const s of this.subs) s.offer(item);
  }

  /** Opens a subscription; `notify` is called (synchronously) whenever it has something new. */
  subscribe(opts: { filter?: TopicFilter; bound: number; notify: () => void }): Subscription {
    const s = new Subscription(this, opts.filter, opts.bound, opts.notify);
    this.subs.add(s);
    return s;
  }

  remove(s: Subscription): void {
    this.subs.delete(s);
  }

  get size(): number {
    return this.subs.size;
  }
}
