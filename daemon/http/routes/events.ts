import { Hono } from 'hono';
import { z } from 'zod';
import type { ServerResponse } from 'node:http';
import { compileTopicFilter, isReservedTopic, LEVELS, parseSince, RESERVED_PREFIXES, TOPIC_PATTERN } from '../../../shared/events.js';
import { FleetError } from '../../errors.js';
import { EventFeed } from '../../events/event-feed.js';
import type { AppDeps } from '../app.js';
import { sseStream } from '../sse-stream.js';

/** Body of POST /events. */
export const PublishSchema = z
  .object({
    topic: z.string().max(128).regex(TOPIC_PATTERN, 'topic must be dotted words of letters, digits, _ and - (e.g. deploy.finished)'),
    message: z.string().min(1).max(4096),
    level: z.enum(LEVELS).default('info'),
    subject: z.string().min(1).max(256).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Turns zod issues into one readable line. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** Where a reader starts: Last-Event-ID wins over ?since=; default is "from now". */
export function resolveCursor(deps: AppDeps, lastEventId: string | undefined, since: string | undefined): number {
  if (lastEventId !== undefined) {
    if (!/^\d{1,15}$/.test(lastEventId.trim())) {
      throw new FleetError('bad_last_event_id', `bad Last-Event-ID "${lastEventId.slice(0, 40)}": it must be an event id (a whole number) from this stream`);
    }
    return checkAhead(deps, Number(lastEventId.trim()), 'bad_last_event_id');
  }
  if (since === undefined || since === '') return deps.log.lastId;
  let parsed;
  try {
    parsed = parseSince(since);
  } catch (e) {
    throw new FleetError('bad_since', (e as Error).message);
  }
  return parsed.kind === 'id' ? checkAhead(deps, parsed.id, 'bad_since') : deps.log.cursorAtTime(parsed.ms);
}

function checkAhead(deps: AppDeps, id: number, code: string): number {
  if (id > deps.log.lastId) {
    throw new FleetError(code, `event id ${id} is newer than the newest event (${deps.log.lastId}); was the log replaced? Resume with since=0 or a time`);
  }
  return id;
}

/** Parses the topic globs from repeated or comma-separated `topic=` parameters. */
export function parseTopics(values: string[] | undefined) {
  const raw = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (raw.length === 0) return { globs: undefined, filter: undefined };
  try {
    return { globs: raw, filter: compileTopicFilter(raw) };
  } catch (e) {
    throw new FleetError('bad_topic', (e as Error).message);
  }
}

/** GET /events (SSE or a JSON page) and POST /events (publish a custom event). */
export function eventRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/', (c) => {
    const after = resolveCursor(deps, c.req.header('last-event-id'), c.req.query('since'));
    const { globs, filter } = parseTopics(c.req.queries('topic'));
    const accept = c.req.header('accept') ?? '';
    if (accept.includes('application/json') && !accept.includes('text/event-stream')) {
      const limitRaw = c.req.query('limit') ?? '1000';
      if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 10_000) {
        throw new FleetError('bad_limit', `bad limit "${limitRaw.slice(0, 20)}": use a whole number from 1 to 10000`);
      }
      const events = deps.log.read(after, { globs, limit: Number(limitRaw) });
      return c.json({ events, cursor: events.length ? events[events.length - 1]!.id : after, lastId: deps.log.lastId });
    }
    const feed = new EventFeed(deps.log, deps.bus, { after, globs, filter, bound: deps.config.sse.subscriberBuffer });
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    const body = sseStream(feed, deps.streams, {
      keepAliveMs: deps.config.sse.keepAlive,
      retryMs: 1000,
      cutOff: () => outgoing?.destroy(),
    });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  });

  app.post('/', async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new FleetError('bad_json', 'request body is not valid JSON: send {"topic": "...", "message": "..."}');
    }
    const parsed = PublishSchema.safeParse(raw);
    if (!parsed.success) throw new FleetError('bad_event', `bad event: ${describeIssues(parsed.error)}`);
    if (isReservedTopic(parsed.data.topic)) {
      throw new FleetError('reserved_topic', `topic "${parsed.data.topic}" is reserved for fleetd (${RESERVED_PREFIXES.join(' ')}); use your own prefix, e.g. deploy.finished`);
    }
    const event = await deps.log.append(parsed.data);
    return c.json(event, 201);
  });

  return app;
}
