import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { HomePaths } from '../shared/home.js';
import type { Config } from './config.js';
import type { EventBus } from './events/event-bus.js';
import type { EventLog } from './events/event-log.js';
import type { RouteMount } from './http/app.js';

/** What every part of the daemon shares: settings, paths and the event log. */
export interface FleetContext {
  config: Config;
  paths: HomePaths;
  log: EventLog;
  bus: EventBus;
  startedAt: number;
  /** The daemon's base URL once it listens ('' in stdio mode). */
  url: () => string;
  /** The daemon's state in one object: version, uptime, events, sessions, and each part's own. */
  status: () => Record<string, unknown>;
  /** Ids of the MCP sessions alive now, kept by the MCP layer (task events fall back to all when theirs is gone). */
  liveSessions: Set<string>;
}

/** Who is calling a tool: the MCP session (for task scoping and per-session cursors). */
export interface ToolCaller {
  sessionId: string | undefined;
  /** Per-session wait_for_events cursor. */
  cursor: number;
}

/** Registers one group of MCP tools on a session's server. */
export type ToolGroup = (server: McpServer, ctx: FleetContext, caller: ToolCaller) => void;

/**
 * A feature of the daemon (events, members, tasks...): what it adds to GET /status,
 * its MCP tools, its HTTP routes, and how it stops.
 */
export interface FleetPart {
  name: string;
  status?: () => Record<string, unknown>;
  tools?: ToolGroup;
  routes?: RouteMount;
  /** Routes that check their own credentials (e.g. a webhook's HMAC), mounted before auth. */
  publicRoutes?: RouteMount;
  stop?: () => Promise<void> | void;
}

/** Builds a part from the shared context (may open tables, start timers). */
export type PartFactory = (ctx: FleetContext) => FleetPart | Promise<FleetPart>;
