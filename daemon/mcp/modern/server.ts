import { McpServer } from '@modelcontextprotocol/server';
import { VERSION } from '../../../shared/version.js';
import type { FleetContext, FleetPart, ToolCaller } from '../../context.js';
import { instructionsFor } from '../server-factory.js';
import { v2Registry } from '../tool-registry.js';
import { registerEventResources } from './event-resources.js';
import { TASKS_EXTENSION } from './task-shapes.js';

/**
 * The SDK v2 server for one 2026-07-28 request: the same tools as a session, plus the event
 * resources. `tasksExtension`: the tasks extension is served in front of it (HTTP /mcp and
 * stdio, where the tasks part runs), so server/discover advertises it.
 */
export function buildModernServer(ctx: FleetContext, parts: FleetPart[], tasksExtension = false): McpServer {
  const extensions = tasksExtension ? { extensions: { [TASKS_EXTENSION]: {} } } : {};
  const server = new McpServer(
    { name: 'fleetd', title: 'fleet', version: VERSION },
    { capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, ...extensions }, instructions: instructionsFor(parts, 'stateless') },
  );
  // No session: a call's own cursor starts at the newest event (wait_for_events takes `since`).
  const caller: ToolCaller = { sessionId: undefined, cursor: ctx.log.lastId };
  const registry = v2Registry(server);
  for (const part of parts) part.tools?.(registry, ctx, caller);
  registerEventResources(server, ctx);
  return server;
}
