import type { FleetEvent, TopicFilter } from '../../shared/events.js';
import type { LogRow } from './event-log.js';

/** A committed event with its row (JSON text), shared by all readers so it is serialized once. */
export interface BusEvent {
  event: FleetEvent;
  row: LogRow;
}

/**
 * One reader's bounded queue on the bus. When the queue would exceed its bound the
 * subscription stops taking events and is marked `overflowed`: the reader must catch up
 * from the log by its last id. The publisher never waits for it.
 */
export class Subscription {
  private queue: BusEvent[] = [];
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
    if (this.queue.length >= this.bound) {
      this.overflowed = true;
      this.queue = [];
      this.bus.remove(this);
    } else {
      this.queue.push(item);
    }
    this.notify();
  }

  /** Takes everything queued so far. */
  drain(): BusEvent[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Leaves the bus. */
  close(): void {
    this.queue = [];
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
