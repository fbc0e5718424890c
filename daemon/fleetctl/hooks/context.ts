import type { FleetEvent } from '../../../shared/events.js';
import type { HooksConfig } from './config.js';
import type { SessionCursor } from './cursor.js';
import { DaemonAnswer, getJson, type HookEndpoint } from './daemon-http.js';
import type { HookInput } from './stdin.js';

/** What every hook gets: its input, the daemon, its settings, the session's cursor and a log. */
export interface HookContext {
  input: HookInput;
  endpoint: HookEndpoint;
  config: HooksConfig;
  cursor: SessionCursor;
  log(line: string): void;
  /** Aborts every request when the hook's time is up. */
  signal: AbortSignal;
}

/** What a hook prints: nothing, or text for stdout. */
export type HookOutput = string | undefined;

interface Page {
  events: FleetEvent[];
  cursor: number;
  lastId: number;
}

/** Events after `after` in one page (filtered by topic), and the log's newest id. */
export const PAGE_LIMIT = 500;

/**
 * Reads the events after `after` whose topic matches; a cursor the log does not know (newer
 * than its newest event: the home was replaced) is answered as "from now", with a log line.
 */
export async function readAfter(ctx: HookContext, after: number, topics: string[]): Promise<Page & { open: boolean }> {
  const q = new URLSearchParams({ since: String(after), limit: String(PAGE_LIMIT), topic: topics.join(',') });
  try {
    const page = await getJson<Page>(ctx.endpoint, `/events?${q}`, ctx.signal);
    return { ...page, open: page.events.length >= PAGE_LIMIT };
  } catch (e) {
    if (!(e instanceof DaemonAnswer) || e.code !== 'bad_since') throw e;
    ctx.log(`cursor ${after} is ahead of the log (${e.message}); starting from now`);
    const page = await getJson<Page>(ctx.endpoint, '/events', ctx.signal);
    return { events: [], cursor: page.lastId, lastId: page.lastId, open: false };
  }
}

/** The log's newest event id: where a new session starts. */
export async function newestId(ctx: HookContext): Promise<number> {
  return (await getJson<Page>(ctx.endpoint, '/events?limit=1', ctx.signal)).lastId;
}
