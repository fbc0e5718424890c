import type { FleetEvent } from '../../shared/events.js';
import type { DaemonClient } from '../../shared/client.js';
import { formatEvent } from './format.js';

export interface EventsArgs {
  since?: string;
  follow: boolean;
  topic: string[];
  json: boolean;
  limit?: number;
}

interface Page {
  events: FleetEvent[];
  cursor: number;
  lastId: number;
}

/** `fleetctl events`: prints history from --since, then (with --follow) live events. */
export async function eventsCommand(client: DaemonClient, args: EventsArgs, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const colour = !args.json && (out as NodeJS.WriteStream).isTTY === true && !process.env.NO_COLOR;
  const print = (e: FleetEvent) => out.write(`${args.json ? JSON.stringify(e) : formatEvent(e, colour)}\n`);
  // Without --follow the default window is the last hour; with it, history only when asked for.
  const since = args.since ?? (args.follow ? undefined : '1h');
  let remaining = args.limit ?? Infinity;
  let cursor: string | undefined = since;
  if (cursor !== undefined) {
    for (;;) {
      const q: URLSearchParams = new URLSearchParams({ since: cursor, limit: String(Math.min(1000, remaining)) });
      for (const t of args.topic) q.append('topic', t);
      const page: Page = await client.request<Page>('GET', `/events?${q}`);
      page.events.forEach(print);
      remaining -= page.events.length;
      cursor = String(page.cursor);
      if (page.events.length === 0 || remaining <= 0 || page.cursor >= page.lastId) break;
    }
    if (remaining <= 0) return;
  }
  if (!args.follow) return;
  if (cursor === undefined) {
    // Following from now: ask where "now" is first, so a daemon that is not running is an error
    // (with what to do), not a silent wait. Once connected, follow rides out restarts by itself.
    cursor = String((await client.request<{ lastEventId: number }>('GET', '/status')).lastEventId);
  }
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  let count = 0;
  await client.follow({
    since: cursor,
    topics: args.topic,
    signal: ac.signal,
    onEvent: (e) => {
      // Events already read in the same chunk arrive after the abort: --limit still holds.
      if (count >= remaining) return;
      print(e);
      if (++count >= remaining) ac.abort();
    },
    onState: (state, detail) => {
      if (state === 'reconnecting') process.stderr.write(`fleetctl: stream interrupted (${detail}); reconnecting...\n`);
    },
  });
}
