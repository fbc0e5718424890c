import { LEVELS, parseDuration, parseTopicGlobs, type Level } from '../../../shared/events.js';

/** Which events one hook shows: topic globs and the lowest level. */
export interface HookFilter {
  topics: string[];
  minLevel: Level;
}

/** The `hooks` section of FLEET_HOME/config.json, resolved (durations in ms). */
export interface HooksConfig {
  /** What prompt and post-tool show. */
  show: HookFilter;
  /** What ends a Stop hook's wait (it also shows what `show` matches on the way). */
  stop: HookFilter;
  /** Longest a Stop hook waits for a relevant event while work is pending. */
  stopWaitMs: number;
  /** Most event lines one hook prints before "N more". */
  maxLines: number;
  /** Longest event line, in characters. */
  lineLength: number;
}

/** Signal, not noise: ends, failures and stalls of tasks, liveness, secrets, CI and watched files. */
export const DEFAULT_TOPICS = ['task.completed', 'task.failed', 'task.stalled', 'member.offline', 'member.online', 'credential.stored', 'credential.expiring', 'credential.expired', 'ci.status', 'file.changed', 'fleet.gap'];
/** What a stopping agent waits on: the end of work in flight, a secret entered, a member lost. */
export const DEFAULT_STOP_TOPICS = ['task.completed', 'task.failed', 'task.cancelled', 'task.stalled', 'credential.stored', 'member.offline'];
/** Below Claude Code's default 60 s hook timeout, leaving room to start and answer. */
export const DEFAULT_STOP_WAIT_MS = 50_000;
const MAX_STOP_WAIT_MS = 10 * 60_000;

export const DEFAULT_HOOKS_CONFIG: HooksConfig = {
  show: { topics: DEFAULT_TOPICS, minLevel: 'info' },
  stop: { topics: DEFAULT_STOP_TOPICS, minLevel: 'info' },
  stopWaitMs: DEFAULT_STOP_WAIT_MS,
  maxLines: 20,
  lineLength: 240,
};

const KEYS = ['topics', 'minLevel', 'stopTopics', 'stopMinLevel', 'stopWait', 'maxLines', 'lineLength'];

/**
 * Checks the `hooks` section (absent means every default) without zod, so a hook loads
 * little; fleetd runs the same check at start-up. Throws an Error naming the key and what
 * it accepts.
 */
export function parseHooksConfig(raw: unknown): HooksConfig {
  if (raw === undefined) return DEFAULT_HOOKS_CONFIG;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('hooks must be an object, e.g. {"stopWait": "50s"}');
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw new Error(`hooks has unknown key(s) ${unknown.join(', ')}: use ${KEYS.join(', ')}`);
  const d = DEFAULT_HOOKS_CONFIG;
  return {
    show: { topics: topicsOf(r.topics, 'topics', d.show.topics), minLevel: levelOf(r.minLevel, 'minLevel', d.show.minLevel) },
    stop: { topics: topicsOf(r.stopTopics, 'stopTopics', d.stop.topics), minLevel: levelOf(r.stopMinLevel, 'stopMinLevel', d.stop.minLevel) },
    stopWaitMs: stopWaitOf(r.stopWait),
    maxLines: intOf(r.maxLines, 'maxLines', 1, 200, d.maxLines),
    lineLength: intOf(r.lineLength, 'lineLength', 40, 4000, d.lineLength),
  };
}

function topicsOf(v: unknown, key: string, fallback: string[]): string[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length === 0 || v.some((t) => typeof t !== 'string')) throw new Error(`hooks.${key} must be a non-empty list of topic globs, e.g. ["task.*", "member.offline"]`);
  try {
    return parseTopicGlobs(v as string[]);
  } catch (e) {
    throw new Error(`hooks.${key}: ${(e as Error).message}`);
  }
}

function levelOf(v: unknown, key: string, fallback: Level): Level {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(LEVELS as readonly string[]).includes(v)) throw new Error(`hooks.${key} must be one of ${LEVELS.join(', ')}`);
  return v as Level;
}

function stopWaitOf(v: unknown): number {
  if (v === undefined) return DEFAULT_STOP_WAIT_MS;
  const ms = typeof v === 'number' || typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || ms > MAX_STOP_WAIT_MS) throw new Error(`hooks.stopWait ${JSON.stringify(v)} is not a duration from 0 to 10m: use seconds or 30s, 2m (keep it below the Stop hook's timeout)`);
  return ms;
}

function intOf(v: unknown, key: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`hooks.${key} must be a whole number from ${min} to ${max}`);
  return v;
}

/** True when an event's level is at or above the filter's lowest. */
export function levelAtLeast(level: string, min: Level): boolean {
  return LEVELS.indexOf(level as Level) >= LEVELS.indexOf(min);
}
