import type Database from 'better-sqlite3';
import type { HomePaths } from '../shared/home.js';
import type { Config } from './config.js';
import type { EventBus } from './events/event-bus.js';
import type { EventLog } from './events/event-log.js';
import type { Redactor } from './credentials/redactor.js';

/** Deeply read-only: configuration is resolved once, before any part exists, and never patched. */
export type Frozen<T> = T extends (...args: never[]) => unknown ? T : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

/** What every part of the daemon shares: settings, paths, fleet.db and the event log. */
export interface FleetContext {
  /** Final settings (flag > environment > config.json > default); frozen. */
  readonly config: Frozen<Config>;
  paths: HomePaths;
  /** The owner's connection to fleet.db, schema migrated (daemon/db); parts keep their tables here. */
  db: Database.Database;
  log: EventLog;
  bus: EventBus;
  startedAt: number;
  /** The daemon's base URL once it listens ('' in stdio mode). */
  url: () => string;
  /** The daemon's state in one object: version, uptime, events, sessions, and each part's own. */
  status: () => Record<string, unknown>;
  /** Ids of the MCP sessions alive now, kept by the MCP layer (task events fall back to all when theirs is gone). */
  liveSessions: Set<string>;
  /** Secret values known to the credentials part; whatever fleetd writes or sends goes through it. */
  redactor: Redactor;
}
