import type { Config } from '../config.js';
import type { LinkSettings } from './connection.js';
import type { ShellPoolOptions } from './shell-pool.js';

/** Everything the members part takes from config.members, in the units the code uses. */
export interface MemberSettings {
  link: LinkSettings;
  pool: ShellPoolOptions;
  channels: number;
  outputLimit: number;
  /** Most bytes one fetch_files call takes from a member (a compromised member may claim any size). */
  maxFetchBytes: number;
  commandTimeoutMs: number;
  /** Commands allowed longer than this run on a channel of their own instead of a pooled shell. */
  longCommandMs: number;
}

/** Reads config.members (durations are already milliseconds). */
export function memberSettings(c: Config['members']): MemberSettings {
  return {
    link: {
      keepaliveIntervalMs: c.keepaliveInterval,
      keepaliveCountMax: c.keepaliveCountMax,
      connectTimeoutMs: c.connectTimeout,
      backoff: { initialMs: c.reconnect.initial, maxMs: Math.max(c.reconnect.initial, c.reconnect.max), jitter: c.reconnect.jitter },
    },
    pool: { shellChannels: c.shellChannels, outputLimit: c.outputLimit, killGraceMs: c.killGrace, openTimeoutMs: c.sessionStartTimeout },
    channels: c.channels,
    outputLimit: c.outputLimit,
    maxFetchBytes: c.maxFetchBytes,
    commandTimeoutMs: c.commandTimeout,
    longCommandMs: c.longCommand,
  };
}
