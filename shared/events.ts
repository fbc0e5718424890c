/** The one event shape every part of fleet shares: log, SSE, MCP, CLI. */
export const LEVELS = ['debug', 'info', 'notice', 'warning', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export interface FleetEvent {
  id: number;
  ts: string;
  topic: string;
  level: Level;
  subject?: string;
  message: string;
  data?: Record<string, unknown>;
  session?: string;
}

/** What a publisher supplies; the log assigns id and ts. */
export type NewEvent = Omit<FleetEvent, 'id' | 'ts'>;

/** Namespaces owned by fleetd itself; custom events must use another prefix. */
export const RESERVED_PREFIXES = ['member.', 'task.', 'credential.', 'ci.', 'file.', 'fleet.'] as const;

/** True when a topic falls in a namespace only fleetd may publish to. */
export function isReservedTopic(topic: string): boolean {
  return RESERVED_PREFIXES.some((p) => topic === p.slice(0, -1) || topic.startsWith(p));
}

/** Topics are dotted words: letters, digits, `_` and `-`, 1..128 characters. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const GLOB_PATTERN = /^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*$/;

export type TopicFilter = (topic: string) => boolean;

/**
 * Compiles comma-separated topic globs (`member.*,task.completed`) into a matcher.
 * `*` matches any run of characters, dots included. Throws on a malformed glob.
 */
export function compileTopicFilter(globs: string | string[] | undefined): TopicFilter | undefined {
  const parts = (Array.isArray(globs) ? globs : globs === undefined ? [] : [globs])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  if (parts.length === 0) return undefined;
  const sources: string[] = [];
  for (const glob of parts) {
    if (glob.length > 128 || !GLOB_PATTERN.test(glob)) {
      throw new TypeError(
        `bad topic glob "${glob.slice(0, 64)}": use dotted words of letters, digits, _ and -, with * as a wildcard (e.g. member.*,task.completed)`,
      );
    }
    if (glob === '*') return () => true;
    sources.push(glob.split('*').map(escapeRegExp).join('.*'));
  }
  const re = new RegExp(`^(?:${sources.join('|')})$`);
  return (topic) => re.test(topic);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `10m`, `2h`, `7d` (or a bare number of seconds) into milliseconds; undefined when malformed. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(input);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!);
}

/** Where a reader starts: after an event id (exclusive), or at/after a point in time. */
export type Since = { kind: 'id'; id: number } | { kind: 'time'; ms: number };

/**
 * Parses the shared `since` convention: a bare integer is an event id ("after it"),
 * an ISO 8601 time with a zone or a duration like `10m` means "at or after that time".
 */
export function parseSince(input: string, now = Date.now()): Since {
  const s = input.trim();
  if (/^\d+$/.test(s)) {
    const id = Number(s);
    if (!Number.isSafeInteger(id)) throw new TypeError(`bad since "${s.slice(0, 40)}": event id is too large`);
    return { kind: 'id', id };
  }
  const ms = /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(s) ? parseDuration(s) : undefined;
  if (ms !== undefined) return { kind: 'time', ms: now - ms };
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return { kind: 'time', ms: t };
  }
  throw new TypeError(
    `bad since "${s.slice(0, 40)}": use an event id (e.g. 42), an ISO 8601 time with a zone (e.g. 2026-01-02T03:04:05Z) or a duration (e.g. 90s, 10m, 2h, 7d)`,
  );
}
