import type { FleetEvent } from '../../shared/events.js';
import type { FleetContext } from '../context.js';
import { EventFeed } from '../events/event-feed.js';
import { visibleTo } from '../tools/events.js';

/**
 * Pushes fleet events to one MCP session as `notifications/message`, in log order, from a
 * cursor fixed when the session began. Task events go only to the session that started
 * the task (or to all once it is gone). Sending awaits the session's message store, so a
 * slow session never holds up the publisher: its feed falls back to the log instead.
 */
export class EventPusher {
  private readonly feed: EventFeed;
  private running = false;
  private sending = false;
  private readonly stopped = new AbortController();

  constructor(
    private readonly ctx: FleetContext,
    private readonly sessionId: string | undefined,
    private readonly send: (event: FleetEvent) => Promise<void>,
    after = ctx.log.lastId,
  ) {
    this.feed = new EventFeed(ctx.log, ctx.bus, { after, bound: ctx.config.sse.subscriberBuffer });
  }

  /** Starts pushing (idempotent); events since the cursor are sent first. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      const rows = this.feed.next(500);
      if (rows.length === 0) {
        await this.feed.wait(this.stopped.signal);
        continue;
      }
      // Sent together so the message store commits the whole batch in one transaction;
      // each send stores before it writes, and the store resolves in order, so order holds.
      const sends: Promise<void>[] = [];
      for (const row of rows) {
        const event = JSON.parse(row.json) as FleetEvent;
        if (visibleTo(event, this.sessionId, this.ctx.liveSessions)) sends.push(this.send(event));
      }
      this.sending = true;
      const results = await Promise.allSettled(sends);
      this.sending = false;
      // A failed send means the session is closing; the events stay in the log for wait_for_events.
      if (results.some((r) => r.status === 'rejected') && this.stopped.signal.aborted) return;
    }
  }

  /**
   * Resolves once everything committed so far has been handed to the session (or after
   * `timeoutMs`): shutdown calls it so `fleet.stopping` reaches clients before streams end.
   */
  async drain(timeoutMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running && !this.stopped.signal.aborted && Date.now() < deadline && (this.sending || this.feed.cursor < this.ctx.log.lastId)) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  stop(): void {
    this.stopped.abort();
    this.feed.close();
  }
}
