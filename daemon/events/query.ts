import { compileTopicFilter, isReservedTopic, parseSince, parseTopicGlobs, RESERVED_PREFIXES } from '../../shared/events.js';
import { FleetError, type ErrorCode } from '../errors.js';
import type { EventLog } from './event-log.js';

/** Where a reader starts: Last-Event-ID wins over ?since=; default is "from now". */
export function resolveCursor(log: EventLog, lastEventId: string | undefined, since: string | undefined): number {
  if (lastEventId !== undefined) {
    if (!/^\d{1,15}$/.test(lastEventId.trim())) {
      throw new FleetError('bad_last_event_id', `bad Last-Event-ID "${lastEventId.slice(0, 40)}": it must be an event id (a whole number) from this stream`);
    }
    return checkAhead(log, Number(lastEventId.trim()), 'bad_last_event_id');
  }
  if (since === undefined || since === '') return log.lastId;
  let parsed;
  try {
    parsed = parseSince(since);
  } catch (e) {
    throw new FleetError('bad_since', (e as Error).message);
  }
  return parsed.kind === 'id' ? checkAhead(log, parsed.id, 'bad_since') : log.cursorAtTime(parsed.ms);
}

function checkAhead(log: EventLog, id: number, code: ErrorCode): number {
  if (id > log.lastId) {
    throw new FleetError(code, `event id ${id} is newer than the newest event (${log.lastId}); was the log replaced? Resume with since=0 or a time`);
  }
  return id;
}

/** Parses the topic globs from repeated or comma-separated `topic=` parameters (bounded in count and length). */
export function parseTopics(values: string[] | undefined) {
  try {
    const globs = parseTopicGlobs(values ?? []);
    if (globs.length === 0) return { globs: undefined, filter: undefined };
    return { globs, filter: compileTopicFilter(globs) };
  } catch (e) {
    throw new FleetError('bad_topic', (e as Error).message);
  }
}

/** Refuses a topic in a namespace only fleetd may publish to (POST /events, publish_event). */
export function assertCustomTopic(topic: string): void {
  if (isReservedTopic(topic)) {
    throw new FleetError('reserved_topic', `topic "${topic}" is reserved for fleetd (${RESERVED_PREFIXES.join(' ')}, in any letter case); use your own prefix, e.g. deploy.finished`);
  }
}
