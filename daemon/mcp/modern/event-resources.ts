import { ResourceTemplate, UriTemplate, type McpServer, type ReadResourceResult, type Variables } from '@modelcontextprotocol/server';
import { TOPIC_PATTERN, type FleetEvent } from '../../../shared/events.js';
import type { FleetContext } from '../../context.js';
import { FleetError } from '../../errors.js';
import { PAGE_BYTES, type ReadOptions } from '../../events/event-log.js';
import { parseTopics, resolveCursor } from '../../events/query.js';
import { visibleTo } from '../../tools/events.js';

/** The whole event stream as one resource; narrower ones hang below it. */
export const EVENTS_URI = 'fleet://events';
/** `_meta` key on notifications/resources/updated: the id of the event that touched the resource. */
export const EVENT_ID_META_KEY = 'fleet/eventId';
const PAGE_EVENTS = 1000;

/** Which events a resource holds. */
interface Scope {
  globs?: string[];
  subject?: string;
  /** The member resource leaves out task events (a task's subject is its id, never a member's name, but be exact). */
  notTasks?: boolean;
}

/**
 * The resource URIs (without query) that an event touches: the whole stream, every
 * dotted prefix of its topic, and its task or member. A listen stream subscribed to
 * any of them gets notifications/resources/updated for this event.
 */
export function touchedUris(e: Pick<FleetEvent, 'topic' | 'subject'>): string[] {
  const uris = [EVENTS_URI];
  const parts = e.topic.split('.');
  for (let i = 1; i <= parts.length; i++) uris.push(`${EVENTS_URI}/topic/${parts.slice(0, i).join('.')}`);
  if (e.subject !== undefined) uris.push(`${EVENTS_URI}/${e.topic.startsWith('task.') ? 'task' : 'member'}/${encodeURIComponent(e.subject)}`);
  return uris;
}

/**
 * A page of events after the cursor, bounded in rows and bytes like list_events. Its
 * `cursor` continues it (pass it as `after`); with no `after` the page is empty and its
 * cursor is the newest event (read from now on).
 */
function readPage(ctx: FleetContext, uri: URL, scope: Scope, after: string | undefined, topics: string | undefined): ReadResourceResult {
  const newest = ctx.log.lastId;
  const from = after === undefined ? newest : resolveCursor(ctx.log, undefined, after);
  const globs = scope.globs ?? parseTopics(topics === undefined ? undefined : [topics]).globs;
  const opts: ReadOptions = { globs, subject: scope.subject, limit: PAGE_EVENTS, maxBytes: PAGE_BYTES };
  const page = from >= newest ? [] : ctx.log.read(from, opts);
  // No match up to the newest event: the reader may move past all of it.
  const cursor = page.length ? page[page.length - 1]!.id : Math.max(from, newest);
  const events = page.filter((e) => visibleTo(e, undefined, ctx.liveSessions) && !(scope.notTasks && e.topic.startsWith('task.')));
  const body = { events, cursor, lastId: ctx.log.lastId, more: cursor < ctx.log.lastId };
  return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * A template matched by parsing the URI instead of the SDK's matcher, which wants every
 * `{?...}` parameter present: here each is optional (`fleet://events/topic/x` and
 * `fleet://events/topic/x?after=5` are both the topic resource).
 */
class EventsTemplate extends UriTemplate {
  constructor(
    template: string,
    private readonly kind: '' | 'topic' | 'member' | 'task',
  ) {
    super(template);
  }

  override match(uri: string): Variables | null {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return null;
    }
    if (url.protocol !== 'fleet:' || url.host !== 'events') return null;
    const path = url.pathname.split('/').filter((p) => p !== '');
    if (this.kind === '' ? path.length !== 0 : path.length !== 2 || path[0] !== this.kind) return null;
    const vars: Variables = {};
    for (const [k, v] of url.searchParams) vars[k] = v;
    if (path[1] !== undefined) vars.name = decodeURIComponent(path[1]);
    return vars;
  }
}

function template(uri: string, kind: '' | 'topic' | 'member' | 'task'): ResourceTemplate {
  return new ResourceTemplate(new EventsTemplate(uri, kind), { list: undefined });
}

function topicPrefix(prefix: string): string[] {
  if (!TOPIC_PATTERN.test(prefix) || prefix.length > 120) throw new FleetError('bad_topic', `"${prefix.slice(0, 40)}" is not a topic prefix (dotted words, e.g. deploy or member.online)`);
  return [prefix, `${prefix}.*`];
}

/**
 * fleet://events and the narrower event resources, each readable from a cursor
 * (`?after=<event id>`, also an ISO time or a duration like 10m).
 */
export function registerEventResources(server: McpServer, ctx: FleetContext): void {
  const meta = { mimeType: 'application/json' };
  server.registerResource('events', EVENTS_URI, { ...meta, title: 'Fleet events', description: 'Every fleet event. Subscribe with subscriptions/listen; read fleet://events?after=<cursor> for what came after your cursor.' }, (uri) =>
    readPage(ctx, uri, {}, undefined, undefined),
  );
  server.registerResource('events-after', template(`${EVENTS_URI}{?after,topics}`, ''), { ...meta, title: 'Fleet events after a cursor', description: 'Events after `after` (an event id), optionally only topics matching comma-separated globs; the result\'s cursor continues it.' }, (uri, v) =>
    readPage(ctx, uri, {}, one(v.after), one(v.topics)),
  );
  server.registerResource('events-topic', template(`${EVENTS_URI}/topic/{prefix}{?after}`, 'topic'), { ...meta, title: 'Fleet events under a topic prefix', description: 'Events whose topic is the prefix or starts with it and a dot, e.g. fleet://events/topic/member.' }, (uri, v) =>
    readPage(ctx, uri, { globs: topicPrefix(one(v.name) ?? '') }, one(v.after), undefined),
  );
  server.registerResource('events-member', template(`${EVENTS_URI}/member/{name}{?after}`, 'member'), { ...meta, title: 'Fleet events about a member', description: 'Events whose subject is the member (member.* events, and custom events published with that subject).' }, (uri, v) =>
    readPage(ctx, uri, { subject: one(v.name) ?? '', notTasks: true }, one(v.after), undefined),
  );
  server.registerResource('events-task', template(`${EVENTS_URI}/task/{id}{?after}`, 'task'), { ...meta, title: 'Fleet events of a task', description: 'The task.* events of one background task.' }, (uri, v) =>
    readPage(ctx, uri, { subject: one(v.name) ?? '', globs: ['task.*'] }, one(v.after), undefined),
  );
}
