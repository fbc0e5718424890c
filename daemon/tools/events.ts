import { z } from 'zod';
import { LEVELS, RESERVED_PREFIXES, TOPIC_PATTERN, type FleetEvent } from '../../shared/events.js';
import type { FleetContext, FleetPart, PartDeps, ToolCaller } from '../context.js';
import { EventFeed } from '../events/event-feed.js';
import { PAGE_BYTES } from '../events/event-log.js';
import { assertCustomTopic, parseTopics, resolveCursor } from '../events/query.js';
import { guarded, ok } from './result.js';

/** Task events belong to the session that started the task, unless that session is gone. */
export function visibleTo(event: Pick<FleetEvent, 'session'>, sessionId: string | undefined, live: ReadonlySet<string>): boolean {
  return event.session === undefined || event.session === sessionId || !live.has(event.session);
}

const since = z.union([z.string(), z.number().int().nonnegative()]).optional();
const topics = z.array(z.string()).optional();

/** Blocks until events after the cursor exist (or the timeout), then returns them. */
async function waitForEvents(ctx: FleetContext, caller: ToolCaller, args: { since?: string | number; topics?: string[]; timeout_s?: number; limit?: number }, signal: AbortSignal) {
  const after = args.since === undefined ? caller.cursor : resolveCursor(ctx.log, undefined, String(args.since));
  const { globs, filter } = parseTopics(args.topics);
  const limit = args.limit ?? 100;
  const timeoutMs = Math.min(args.timeout_s ?? 25, 50) * 1000;
  const feed = new EventFeed(ctx.log, ctx.bus, { after, globs, filter, bound: 10_000 });
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const events: FleetEvent[] = [];
  try {
    while (events.length === 0 && !deadline.aborted) {
      for (const row of feed.next(limit, PAGE_BYTES)) {
        const e = JSON.parse(row.json) as FleetEvent;
        if (visibleTo(e, caller.sessionId, ctx.liveSessions)) events.push(e);
      }
      if (events.length === 0) await feed.wait(deadline);
    }
  } finally {
    feed.close();
  }
  const cursor = Math.max(feed.cursor, after);
  if (args.since === undefined || cursor > caller.cursor) caller.cursor = Math.max(caller.cursor, cursor);
  return { events: events.slice(0, limit), cursor, timedOut: events.length === 0 };
}

/** MCP tools over the event log: wait_for_events, list_events, publish_event, fleet_status. */
export function eventsPart({ ctx }: PartDeps): FleetPart {
  return {
    name: 'events',
    instructions:
      'Events are pushed to this client as notifications/message (logger "fleet") the moment they happen: members added, changed, removed, going online or offline; fleetd starting and stopping; custom events that scripts and agents publish with publish_event.\n' +
      'Your client may not show those notifications to you, so use wait_for_events: call it with no arguments to receive everything this session has not seen yet (it returns at once when events are waiting, otherwise it waits up to 25 s); pass topics such as ["member.*"] to wait for some only, instead of checking in a loop.\n' +
      'To look back in history use list_events with since (an event id, an ISO time or a duration like 10m); fleet_status shows the daemon and a summary of the members.',
    statelessInstructions:
      'Over MCP 2026-07-28 there is no session and no notifications/message: events (members added, changed, removed, online or offline; fleetd starting and stopping; custom events published with publish_event) are the resource fleet://events (and fleet://events/topic/<prefix>, /member/<name>, /task/<id>). ' +
      'Open subscriptions/listen with resourceSubscriptions to be told of each new event, then read fleet://events?after=<cursor> (the cursor from your last read) to get them; nothing is lost while you are away. ' +
      'Or use wait_for_events with since=<cursor> (it returns at once when events are waiting, otherwise waits up to 25 s) instead of checking in a loop; list_events with since looks back in history; fleet_status shows the daemon and a summary of the members.',
    tools: (server, _ctx, caller) => {
      server.registerTool(
        'wait_for_events',
        {
          title: 'Wait for fleet events',
          description:
            'Blocks until fleet events arrive (members added, changed, removed, online or offline; fleetd starting or stopping; custom events) and returns them with a cursor. ' +
            'Call it with no arguments to get everything this session has not seen yet; pass `since` (the cursor from a previous call, an ISO time or a duration like 10m) to read from a point. ' +
            'Returns at once when events are waiting; otherwise waits up to timeout_s (default 25, max 50).',
          inputSchema: {
            since: since.describe('event id (exclusive), ISO 8601 time, or duration like 90s/10m/2h; default: this session\'s own cursor'),
            topics: topics.describe('topic globs (at most 64, each at most 128 characters), e.g. ["member.*", "deploy.*"]'),
            timeout_s: z.number().min(0).max(50).optional().describe('seconds to wait when nothing is pending (default 25, max 50)'),
            limit: z.number().int().min(1).max(1000).optional().describe('most events to return (default 100)'),
          },
          // Changes nothing in the fleet (only this session's cursor), so a relay may retry it.
          annotations: { readOnlyHint: true, openWorldHint: false },
        },
        (args, extra) =>
          guarded(async () => {
            const r = await waitForEvents(ctx, caller, args, extra.signal);
            const summary = r.timedOut ? `No new events (cursor ${r.cursor}).` : `${r.events.length} event(s); pass since=${r.cursor} next time (or no since to continue).`;
            return ok(summary, r);
          }),
      );

      server.registerTool(
        'list_events',
        {
          title: 'List past fleet events',
          description: 'Reads the durable event history without waiting: events after `since` (id, ISO time or duration; default the last hour), filtered by topic globs and subject. A page holds at most `limit` events and about 1 MiB of JSON; pass its `cursor` as `since` for the next one.',
          inputSchema: {
            since: since.describe('event id (exclusive), ISO 8601 time, or duration like 10m (default 1h)'),
            topics: topics.describe('topic globs, e.g. ["member.*"]'),
            subject: z.string().max(256).optional().describe('only events about this subject (a member name, or the subject a custom event was published with)'),
            limit: z.number().int().min(1).max(1000).optional().describe('most events to return (default 100)'),
          },
          annotations: { readOnlyHint: true, openWorldHint: false },
        },
        (args) =>
          guarded(() => {
            const after = resolveCursor(ctx.log, undefined, args.since === undefined ? '1h' : String(args.since));
            const { globs } = parseTopics(args.topics);
            // A page bounded in bytes as well as rows; its cursor (the last id read, shown or not) continues it.
            const page = ctx.log.read(after, { globs, subject: args.subject, limit: args.limit ?? 100, maxBytes: PAGE_BYTES });
            const events = page.filter((e) => visibleTo(e, caller.sessionId, ctx.liveSessions));
            const cursor = page.length ? page[page.length - 1]!.id : after;
            const more = cursor < ctx.log.lastId;
            return ok(`${events.length} event(s).${more ? ` More may follow: pass since=${cursor}.` : ''}`, { events, cursor, lastId: ctx.log.lastId });
          }),
      );

      server.registerTool(
        'publish_event',
        {
          title: 'Publish a custom event',
          description: `Publishes a custom event to every connected client and the log. Topics in ${RESERVED_PREFIXES.join(' ')} are reserved for fleetd.`,
          inputSchema: {
            topic: z.string().max(128).regex(TOPIC_PATTERN).describe('dotted topic, e.g. deploy.finished'),
            message: z.string().min(1).max(4096).describe('one human line'),
            level: z.enum(LEVELS).optional(),
            subject: z.string().min(1).max(256).optional(),
            data: z.record(z.string(), z.unknown()).optional(),
            private: z.boolean().optional().describe('deliver only to this session (a note to self); default: every client'),
          },
        },
        ({ private: onlyMe, ...args }) =>
          guarded(async () => {
            assertCustomTopic(args.topic);
            const event = await ctx.log.append({ ...args, level: args.level ?? 'info', ...(onlyMe && caller.sessionId ? { session: caller.sessionId } : {}) });
            return ok(`Published event ${event.id}.`, { event });
          }),
      );

      server.registerTool(
        'fleet_status',
        {
          title: 'Fleet daemon status',
          description: 'fleetd version, uptime, connected sessions, members summary and the newest event id.',
          inputSchema: {},
          annotations: { readOnlyHint: true, openWorldHint: false },
        },
        () => guarded(() => ok('fleetd is running.', ctx.status())),
      );
    },
  };
}
