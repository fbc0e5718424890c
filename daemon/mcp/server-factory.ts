import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../../shared/version.js';
import type { FleetContext, FleetPart, ToolCaller } from '../context.js';

export const INSTRUCTIONS = `fleetd drives a fleet of machines ("members") over SSH and keeps a durable log of everything that happens on it.
Events are pushed to this client as notifications/message (logger "fleet") the moment they happen: members going online/offline, tasks completing, failing or stalling, credentials stored or expiring, CI status flips, file changes, and custom events.
Your client may not show those notifications to you, so use wait_for_events: call it with no arguments to receive everything this session has not seen yet (it returns at once when events are waiting, otherwise it waits up to 25 s). Instead of polling a task in a loop, start it and call wait_for_events with topics like ["task.*"].
To look back in history use list_events with since (an event id, an ISO time or a duration like 10m).`;

/** One MCP server per session, declaring logging (or the SDK silently drops notifications). */
export function buildMcpServer(ctx: FleetContext, parts: FleetPart[], caller: ToolCaller): McpServer {
  const server = new McpServer(
    { name: 'fleetd', title: 'fleet', version: VERSION },
    { capabilities: { logging: {}, tools: { listChanged: false } }, instructions: INSTRUCTIONS },
  );
  for (const part of parts) part.tools?.(server, ctx, caller);
  return server;
}
