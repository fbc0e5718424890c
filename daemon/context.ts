import type { ToolRegistry } from './mcp/tool-registry.js';
import type { FleetContext } from './fleet-context.js';
import type { RouteMount } from './http/mount.js';
import type { ProvidedServices, ServiceRegistry } from './services.js';

export type { FleetContext } from './fleet-context.js';

/** Who is calling a tool: the MCP session (for task scoping and per-session cursors). */
export interface ToolCaller {
  sessionId: string | undefined;
  /** Per-session wait_for_events cursor. */
  cursor: number;
}

/** Registers one group of MCP tools on a session's server. */
export type ToolGroup = (server: ToolRegistry, ctx: FleetContext, caller: ToolCaller) => void;

/**
 * A feature of the daemon (events, members, tasks...): what it adds to GET /status,
 * its MCP tools, its HTTP routes, the services it offers later parts, and how it stops.
 */
export interface FleetPart {
  name: string;
  /** Services other parts may use (`services.get('members')`), registered once the part is built. */
  provides?: ProvidedServices;
  status?: () => Record<string, unknown>;
  tools?: ToolGroup;
  /** What its tools are for, in a line or two of the MCP server instructions (name only tools that exist). */
  instructions?: string;
  /** The same for MCP 2026-07-28 clients, where it differs (no session, no notifications/message). */
  statelessInstructions?: string;
  routes?: RouteMount;
  /** Routes that check their own credentials (e.g. a webhook's HMAC), mounted before auth. */
  publicRoutes?: RouteMount;
  stop?: () => Promise<void> | void;
}

/** What a part is built from: the shared context and the services of the parts built before it. */
export interface PartDeps {
  ctx: FleetContext;
  services: ServiceRegistry;
}

/** Builds a part (may start timers, use earlier parts' services). */
export type PartFactory = (deps: PartDeps) => FleetPart | Promise<FleetPart>;
