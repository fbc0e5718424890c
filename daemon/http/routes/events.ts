import { Hono } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { z } from 'zod';
import type { ServerResponse } from 'node:http';
import { LEVELS, TOPIC_PATTERN } from '../../../shared/events.js';
import { assertCustomTopic, parseTopics, resolveCursor } from '../../events/query.js';
import { FleetError } from '../../errors.js';
import { EventFeed } from '../../events/event-feed.js';
import { PAGE_BYTES } from '../../events/event-log.js';
import type { AppDeps } from '../mount.js';
import { bodyText } from '../read-body.js';
import { serveSse } from '../sse-stream.js';

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

/** GET /events (SSE or a JSON page) and POST /events (publish a custom event). */
export function eventRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/', (c) => {
    const after = resolveCursor(deps.ctx.log, c.req.header('last-event-id'), c.req.query('since'));
    const { globs, filter } = parseTopics(c.req.queries('topic'));
    const accept = c.req.header('accept') ?? '';
    if (accept.includes('application/json') && !accept.includes('text/event-stream')) {
      const limitRaw = c.req.query('limit') ?? '1000';
      if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 10_000) {
        throw new FleetError('bad_limit', `bad limit "${limitRaw.slice(0, 20)}": use a whole number from 1 to 10000`);
      }
      // Bounded in bytes as well as rows; the cursor lets the reader ask for the next page.
      const events = deps.ctx.log.read(after, { globs, limit: Number(limitRaw), maxBytes: PAGE_BYTES });
      return c.json({ events, cursor: events.length ? events[events.length - 1]!.id : after, lastId: deps.ctx.log.lastId });
    }
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (!outgoing) throw new FleetError('internal', 'GET /events needs the Node HTTP server (no response to write the stream to)', 500);
    const feed = new EventFeed(deps.ctx.log, deps.ctx.bus, { after, globs, filter, bound: deps.ctx.config.sse.subscriberBuffer });
    serveSse(feed, outgoing, deps.streams, { keepAliveMs: deps.ctx.config.sse.keepAlive, retryMs: 1000 });
    return RESPONSE_ALREADY_SENT;
  });

  app.post('/', async (c) => {
    let raw: unknown;
    try {
      raw = JSON.parse(await bodyText(c));
    } catch {
      throw new FleetError('bad_json', 'request body is not valid JSON: send {"topic": "...", "message": "..."}');
    }
    const parsed = PublishSchema.safeParse(raw);
    if (!parsed.success) throw new FleetError('bad_event', `bad event: ${describeIssues(parsed.error)}`);
    assertCustomTopic(parsed.data.topic);
    const event = await deps.ctx.log.append(parsed.data);
    return c.json(event, 201);
  });

  return app;
}
