import { jsonDepth, MAX_DATA_DEPTH, type NewEvent } from '../../shared/events.js';
import { FleetError } from '../errors.js';

/** An event checked and serialised before it is queued for commit; only its time is missing. */
export interface PreparedEvent {
  input: NewEvent;
  /** The stored JSON without `ts`: `{"topic":...,"level":...,"message":...,...}`. */
  rest: string;
}

/**
 * Checks an event a publisher gave and serialises it, so that whatever is wrong with it is
 * refused now, for this publisher alone, with a `bad_event` error (400), instead of throwing
 * inside the group commit and failing every event of its batch.
 */
export function serializeEvent(input: NewEvent): PreparedEvent {
  const { data } = input;
  if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) {
    throw new FleetError('bad_event', 'bad event: data must be a JSON object, e.g. {"build": 42}');
  }
  if (data !== undefined && jsonDepth(data) > MAX_DATA_DEPTH) {
    throw new FleetError('bad_event', `bad event: data nests objects and arrays more than ${MAX_DATA_DEPTH} levels deep; flatten it`);
  }
  // Field order of the stored JSON (after ts); undefined fields are left out.
  const fields: Record<string, unknown> = { topic: input.topic, level: input.level, message: input.message };
  if (input.subject !== undefined) fields.subject = input.subject;
  if (data !== undefined) fields.data = data;
  if (input.session !== undefined) fields.session = input.session;
  let rest: string | undefined;
  try {
    rest = JSON.stringify(fields);
  } catch (e) {
    throw new FleetError('bad_event', `bad event: it cannot be stored as JSON (${(e as Error).message})`);
  }
  if (rest === undefined || !rest.startsWith('{"topic":')) throw new FleetError('bad_event', 'bad event: it cannot be stored as JSON');
  return { input, rest };
}
