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

/** True when a topic falls in a namespace only fleetd may publish to (in any letter case: `FLEET.x` too). */
export function isReservedTopic(topic: string): boolean {
  const t = topic.toLowerCase();
  return RESERVED_PREFIXES.some((p) => t === p.slice(0, -1) || t.startsWith(p));
}

/** Topics are dotted words: letters, digits, `_` and `-`, 1..128 characters. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const GLOB_PATTERN = /^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*$/;

/** Most globs one reader may give: a filter runs on every commit, for every reader. */
export const MAX_TOPIC_GLOBS = 64;
/** Longest glob: as long as the longest topic. */
export const MAX_TOPIC_GLOB_LENGTH = 128;

export type TopicFilter = (topic: string) => boolean;

/**
 * Whether `topic` matches `glob`, where `*` matches any run of characters (dots included).
 * Greedy two-pointer matching that, on a mismatch, backs up only to the most recent star:
 * O(glob × topic) at worst, never exponential (a backtracking regex of `*a*a*a*b` is).
 */
export function globMatches(glob: string, topic: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1; // index in glob just after the most recent *
  let resume = 0; // where in topic that star's run would end next
  while (t < topic.length) {
    const c = glob.charCodeAt(g);
    if (g < glob.length && c !== 42 && c === topic.charCodeAt(t)) {
      g++;
      t++;
    } else if (g < glob.length && c === 42) {
      star = ++g;
      resume = t;
    } else if (star >= 0) {
      g = star;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob.charCodeAt(g) === 42) g++;
  return g === glob.length;
}

/**
 * Splits comma-separated, possibly repeated topic globs (`member.*,task.completed`) and checks
 * them: each dotted words with `*` as a wildcard, at most MAX_TOPIC_GLOBS of them, each at most
 * MAX_TOPIC_GLOB_LENGTH characters. Runs of `*` collapse to one; duplicates go. Throws a
 * TypeError that says what is accepted.
 */
export function parseTopicGlobs(globs: string | string[] | undefined): string[] {
  const parts = (Array.isArray(globs) ? globs : globs === undefined ? [] : [globs])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  if (parts.length > MAX_TOPIC_GLOBS) {
    throw new TypeError(`too many topic globs (${parts.length}): give at most ${MAX_TOPIC_GLOBS}, e.g. member.*,task.*`);
  }
  const out = new Set<string>();
  for (const glob of parts) {
    if (glob.length > MAX_TOPIC_GLOB_LENGTH) {
      throw new TypeError(`topic glob "${glob.slice(0, 40)}..." is ${glob.length} characters long: at most ${MAX_TOPIC_GLOB_LENGTH} are accepted`);
    }
    if (!GLOB_PATTERN.test(glob)) {
      throw new TypeError(
        `bad topic glob "${glob.slice(0, 64)}": use dotted words of letters, digits, _ and -, with * as a wildcard (e.g. member.*,task.completed)`,
      );
    }
    out.add(glob.replace(/\*+/g, '*'));
  }
  return [...out];
}

/**
 * Compiles comma-separated topic globs (`member.*,task.completed`) into a matcher that runs
 * in linear time per glob. `*` matches any run of characters, dots included. Throws on a
 * malformed glob, or on too many or too long ones (see parseTopicGlobs).
 */
export function compileTopicFilter(globs: string | string[] | undefined): TopicFilter | undefined {
  const list = parseTopicGlobs(globs);
  if (list.length === 0) return undefined;
  if (list.includes('*')) return () => true;
  const exact = new Set(list.filter((g) => !g.includes('*')));
  const wild = list.filter((g) => g.includes('*'));
  return (topic) => exact.has(topic) || wild.some((g) => globMatches(g, topic));
}

/** Deepest nesting of objects and arrays accepted in an event's `data` (the object itself is level 1). */
export const MAX_DATA_DEPTH = 64;

/**
 * How deeply `value` nests objects and arrays, counting no further than `limit + 1`.
 * Iterative, so a hostile 100,000-level value cannot overflow the stack here.
 */
export function jsonDepth(value: unknown, limit = MAX_DATA_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
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
