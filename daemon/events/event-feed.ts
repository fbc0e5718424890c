import type { TopicFilter } from '../../shared/events.js';
import type { EventBus, Subscription } from './event-bus.js';
import { PAGE_BYTES, type EventLog, type LogRow } from './event-log.js';

export interface FeedOptions {
  /** Exclusive cursor: the feed yields events with id > after. */
  after: number;
  globs?: string[];
  filter?: TopicFilter;
  /** Live queue bound; past it the feed falls back to reading the log. */
  bound: number;
  /** Called synchronously when the live queue overflowed (the reader is behind). */
  onOverflow?: () => void;
}

/**
 * One reader's view of the event stream: replays the log after a cursor, then follows the
 * bus live, without losing or repeating an event across the switch. It subscribes before
 * its first read, so an event committed while replaying is either read from the log or
 * queued live (and then skipped by id), never neither.
 */
export class EventFeed {
  private sub: Subscription;
  private replaying = true;
  private waiter: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private closedFlag = false;
  cursor: number;

  constructor(
    private readonly log: EventLog,
    private readonly bus: EventBus,
    private readonly opts: FeedOptions,
  ) {
    this.cursor = opts.after;
    this.sub = this.subscribe();
  }

  /** True while the feed reads from the log rather than from its live queue. */
  get isReplaying(): boolean {
    return this.replaying;
  }

  /** True once close() was called; the feed yields nothing more. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Rows available now, oldest first: at most `max` of them and about `maxBytes` of JSON
   * (at least one row, however large); empty when the reader is caught up.
   */
  next(max = 1000, maxBytes = PAGE_BYTES): LogRow[] {
    if (this.closedFlag) return [];
    if (this.sub.overflowed) {
      // Behind: drop the live queue and read the rest from the log instead.
      this.sub = this.subscribe();
      this.replaying = true;
    }
    if (this.replaying) {
      const rows = this.log.readRows(this.cursor, { globs: this.opts.globs, limit: max, maxBytes });
      if (rows.length > 0) {
        this.cursor = rows[rows.length - 1]!.id;
        return rows;
      }
      this.replaying = false;
    }
    const rows: LogRow[] = [];
    // Events queued while replaying were read from the log already: skip them, page after page.
    while (rows.length === 0 && this.sub.size > 0) {
      for (const { row } of this.sub.drain(max, maxBytes)) {
        if (row.id > this.cursor) rows.push(row);
      }
    }
    if (rows.length > 0) this.cursor = rows[rows.length - 1]!.id;
    return rows;
  }

  /** Resolves when something new may be available, or when the signal aborts / the feed closes. */
  wait(signal?: AbortSignal): Promise<void> {
    if (this.closedFlag || signal?.aborted || this.sub.size > 0 || this.sub.overflowed || this.replaying) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve();
      };
      this.waiter = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Sets (or replaces) the callback run when the live queue overflows. */
  setOverflowHandler(fn: () => void): void {
    this.opts.onOverflow = fn;
  }

  /**
   * Sets (or replaces) a callback run, synchronously from the commit, whenever something new
   * may be available: the push-style twin of wait(), for writers that cannot afford a promise
   * per event and per reader.
   */
  setWakeHandler(fn: () => void): void {
    this.wake = fn;
  }

  /** Stops following the bus and wakes any waiter. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.sub.close();
    this.waiter?.();
  }

  private subscribe(): Subscription {
    const sub = this.bus.subscribe({
      filter: this.opts.filter,
      bound: this.opts.bound,
      notify: () => {
        if (sub.overflowed) this.opts.onOverflow?.();
        this.waiter?.();
        this.wake?.();
      },
    });
    return sub;
  }
}
