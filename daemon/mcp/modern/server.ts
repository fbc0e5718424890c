import { McpServer } from '@modelcontextprotocol/server';
import { VERSION } from '../../../shared/version.js';
import type { FleetContext, FleetPart, ToolCaller } from '../../context.js';
import { instructionsFor } from '../server-factory.js';
import { v2Registry } from '../tool-registry.js';
import { registerEventResources } from './event-resources.js';
import { TASKS_EXTENSION } from './task-shapes.js';

const MODERN_NOTE =
  'Over MCP 2026-07-28 there is no session and no notifications/message: events are the resource fleet://events (and fleet://events/topic/<prefix>, /member/<name>, /task/<id>). ' +
  'Open subscriptions/listen with resourceSubscriptions to be told of each new event, then read fleet://events?after=<cursor> (the cursor from your last read) to get them; nothing is lost while you are away. ' +
  'wait_for_events and list_events work too: pass since=<cursor>.';

/**
 * The SDK v2 server for one 2026-07-28 request: the same tools as a session, plus the event
 * resources. `tasksExtension`: the tasks extension is served in front of it (HTTP /mcp and
 * stdio, where the tasks part runs), so server/discover advertises it.
 */
export function buildModernServer(ctx: FleetContext, parts: FleetPart[], tasksExtension = false): McpServer {
  const extensions = tasksExtension ? { extensions: { [TASKS_EXTENSION]: {} } } : {};
  const server = new McpServer(
    { name: 'fleetd', title: 'fleet', version: VERSION },
    { capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, ...extensions }, instructions: `${instructionsFor(parts)}\n${MODERN_NOTE}` },
  );
  // No session: a call's own cursor starts at the newest event (wait_for_events takes `since`).
  const caller: ToolCaller = { sessionId: undefined, cursor: ctx.log.lastId };
  const registry = v2Registry(server);
  for (const part of parts) part.tools?.(registry, ctx, caller);
  registerEventResources(server, ctx);
  return server;
}
