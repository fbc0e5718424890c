import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration } from '../shared/events.js';
import { FleetError } from './errors.js';
import { parseHooksConfig } from './fleetctl/hooks/config.js';

/** Longest delay a Node timer holds: above it setTimeout/setInterval fire after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Longest age a retention setting takes (compared with times, never put in a timer): 100 years. */
const MAX_AGE_MS = 100 * 365 * 86_400_000;

/**
 * A duration (seconds, or a string such as 90s, 10m, 2h, 7d) in milliseconds, bounded to
 * [min, max] ms. Timer values default to at most MAX_TIMER_MS, and to a minimum above 0
 * when 0 would spin or make no sense.
 */
function duration(min: number, max = MAX_TIMER_MS) {
  return z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `bad duration ${JSON.stringify(v)}: use seconds or 90s, 10m, 2h, 7d` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(v)} is out of range: use from ${showMs(min)} to ${showMs(max)}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A bound in the file's own units: 100ms, 1s, 24.8d. */
function showMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 86_400_000) return `${+(ms / 1000).toFixed(1)}s`;
  return `${Math.floor((ms / 86_400_000) * 10) / 10}d`;
}

/**
 * Members over SSH. Defaults notice a dead link within 25 s (keepalive every 5 s, four
 * missed answers) and keep shells under OpenSSH's MaxSessions of 10 per connection.
 * Durations are given like the rest of the file (seconds or "5s") and become milliseconds.
 */
const MembersConfigSchema = z
  .object({
    keepaliveInterval: duration(100).prefault(5),
    keepaliveCountMax: z.number().int().min(1).max(100).default(4),
    connectTimeout: duration(100).prefault(10),
    sessionStartTimeout: duration(100).prefault(30),
    reconnect: z
      .object({ initial: duration(10).prefault(1), max: duration(10).prefault(30), jitter: z.number().min(0).max(1).default(0.3) })
      .strict()
      .prefault({}),
    channels: z.number().int().min(2).max(10).default(8),
    shellChannels: z.number().int().min(1).max(9).default(4),
    outputLimit: z.number().int().min(1024).max(64 * 1024 * 1024).default(64 * 1024),
    // Bytes one fetch_files call may take from one member, checked before anything is read.
    maxFetchBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(16 * 1024 ** 3),
    commandTimeout: duration(100).prefault(50),
    longCommand: duration(0).prefault(60),
    killGrace: duration(0).prefault(2),
  })
  .strict()
  .refine((m) => m.shellChannels < m.channels, { message: 'members.shellChannels must be below members.channels, leaving a channel for file transfers and long work' })
  .refine((m) => m.keepaliveInterval > 0, { message: 'members.keepaliveInterval must be above 0 (0 would turn dead-link detection off)' });

/** An agent CLI as a shell command line (the operator's, from config.json; one line). */
const agentCommand = z.string().min(1).max(4096).regex(/^[^\n\r\0]+$/, 'one line, no NUL');

/** Background tasks: where their folders live on members, how often they are checked, stall and retention. */
const TasksConfigSchema = z
  .object({
    // Relative to the member's home folder (absolute also works).
    root: z.string().min(1).max(1024).regex(/^[A-Za-z0-9._\/-]+$/, 'use letters, digits, . _ - and /').default('.fleet/tasks'),
    // The fallback poll (exits are told by the member's watcher; this finds lost processes and stalls).
    poll: duration(100).prefault(5),
    stallAfter: duration(1000).prefault(150),
    tailBytes: z.number().int().min(256).max(1024 * 1024).default(8192),
    stopGrace: duration(0).prefault(5),
    // Compared with task end times, never put in a timer: it may be longer than a timer holds.
    retention: duration(1000, MAX_AGE_MS).prefault(7 * 86_400),
    // execute_prompt's agent CLI: a shell command (flags and the prompt on stdin are added), per member or for all.
    agent: z
      .object({
        command: agentCommand.default('claude'),
        members: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'member names are 1-63 letters, digits, ".", "_" or "-"'), agentCommand).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** CI: where GitHub's API is, how often watched repos are polled, and which vault credentials hold the token and the webhook secret. */
const CiConfigSchema = z
  .object({
    // https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.
    apiUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
    pollInterval: duration(100).prefault(30),
    tokenCredential: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/).default('github_token'),
    webhookSecretCredential: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/).default('github_webhook_secret'),
    // Delivery ids remembered to drop GitHub's redeliveries (oldest forgotten first).
    deliveryMemory: z.number().int().min(100).max(1_000_000).default(10_000),
    maxWatches: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** File watches: how often a polling watch looks, how changes are debounced, and bounds on what a member may send. */
const WatchConfigSchema = z
  .object({
    pollInterval: duration(100).prefault(2),
    // A path's changes are held until it is quiet this long, but never longer than maxDelay.
    debounce: duration(10).prefault(0.2),
    maxDelay: duration(10).prefault(1),
    // Files in one watch's snapshot at most (a bigger tree is cut off, and list_watches says so).
    maxFiles: z.number().int().min(1).max(1_000_000).default(20_000),
    maxWatches: z.number().int().min(1).max(10_000).default(256),
  })
  .strict();

/** FLEET_HOME/config.json, checked; durations become milliseconds. */
export const ConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    // Listening beyond loopback sends the bearer token in clear: only when asked for (--allow-remote).
    allowRemote: z.boolean().default(false),
    port: z.number().int().min(0).max(65535).optional(),
    retention: z
      .object({
        maxEvents: z.number().int().positive().default(1_000_000),
        // Not a timer (only compared with event times), so it may be long: up to 100 years.
        maxAge: duration(1000, MAX_AGE_MS).prefault(30 * 86_400),
      })
      .strict()
      .default({ maxEvents: 1_000_000, maxAge: 30 * 86_400_000 }),
    bodyLimit: z.number().int().positive().default(1024 * 1024),
    webhookBodyLimit: z.number().int().positive().default(25 * 1024 * 1024),
    sse: z
      .object({
        // A comment every keepAlive/2; 0 would write one every millisecond.
        keepAlive: duration(100).prefault(15),
        subscriberBuffer: z.number().int().positive().default(10_000),
      })
      .strict()
      .default({ keepAlive: 15_000, subscriberBuffer: 10_000 }),
    mcp: z
      .object({
        sessionIdle: duration(1000).prefault(30 * 60),
        // A GET stream whose client leaves this many bytes unread for slowClientTimeout is cut off.
        maxUnreadBytes: z.number().int().positive().default(8 * 1024 * 1024),
        slowClientTimeout: duration(10).prefault(5),
        // Messages kept per session for Last-Event-ID resume; older ones are replaced by a gap notice.
        sessionBacklog: z.number().int().positive().default(10_000),
        // Live MCP sessions at most (each costs an SDK server and transport, ~140 kB); when full, the idlest without an open stream are expired first.
        maxSessions: z.number().int().positive().max(1_000_000).default(1000),
        // Also serve MCP 2026-07-28 on /mcp (server/discover, stateless requests, subscriptions/listen). Off by
        // default: a client that probes with server/discover (Claude Code) would then leave the 2025-11-25
        // session and its notifications/message push (see README "MCP protocol eras").
        modern: z.boolean().default(false),
        // Open 2026-07-28 subscriptions/listen streams at most; one more is refused in-band.
        maxListenStreams: z.number().int().positive().max(1_000_000).default(1024),
      })
      .strict()
      .default({ sessionIdle: 30 * 60_000, maxUnreadBytes: 8 * 1024 * 1024, slowClientTimeout: 5000, sessionBacklog: 10_000, maxSessions: 1000, modern: false, maxListenStreams: 1024 }),
    members: MembersConfigSchema.prefault({}),
    // Credentials: how long before a TTL runs out credential.expiring is sent, and how long a one-time entry page works.
    credentials: z
      .object({ expiryWarning: duration(1000).prefault(600), pageCodeTtl: duration(1000).prefault(300) })
      .strict()
      .prefault({}),
    tasks: TasksConfigSchema.prefault({}),
    ci: CiConfigSchema.prefault({}),
    // Read by `fleetctl hook ...` (which loads no zod); checked here too so a mistake shows at start-up.
    hooks: z.unknown().optional().transform((v, ctx) => {
      try {
        return parseHooksConfig(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
    watch: WatchConfigSchema.prefault({}),
  })
  .strict();

export type Config = z.output<typeof ConfigSchema>;

/** What flags and the environment may set; each wins over config.json. */
export interface ConfigFlags {
  host?: string;
  port?: number;
  allowRemote?: boolean;
}

/** Reads config.json (absent means `{}`); a file that is not JSON is a clear startup error. */
export function readConfigFile(path: string): unknown {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FleetError('bad_config', `${path} is not valid JSON: ${(e as Error).message}`, 400, { cause: e });
  }
}

/**
 * The final settings, resolved once before any part is built: flag > environment
 * (FLEET_HOST, FLEET_PORT) > config.json > default. The result is frozen.
 */
export function resolveConfig(input: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; file?: unknown; source?: string }): Config {
  const source = input.source ?? 'config.json';
  const parsed = ConfigSchema.safeParse(input.file ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FleetError('bad_config', `${source} is invalid: ${issues}`);
  }
  const config = parsed.data;
  const env = input.env ?? {};
  const flags = input.flags ?? {};
  if (env.FLEET_HOST) config.host = env.FLEET_HOST;
  if (env.FLEET_PORT !== undefined && env.FLEET_PORT !== '') config.port = portOf(env.FLEET_PORT, `FLEET_PORT="${env.FLEET_PORT}"`);
  if (flags.host !== undefined) {
    if (flags.host === '') throw new FleetError('bad_config', '--host is empty: give an address to listen on, e.g. 127.0.0.1');
    config.host = flags.host;
  }
  if (flags.port !== undefined) config.port = portOf(flags.port, `--port ${flags.port}`);
  if (flags.allowRemote !== undefined) config.allowRemote = flags.allowRemote;
  return deepFreeze(config);
}

/** Loads config.json alone (no flags, no environment). */
export function loadConfig(path: string): Config {
  return resolveConfig({ file: readConfigFile(path), source: path });
}

function portOf(raw: string | number, what: string): number {
  const n = typeof raw === 'number' ? raw : raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new FleetError('bad_config', `${what} is not a port number: use 0-65535 (0 picks a free port)`);
  return n;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
