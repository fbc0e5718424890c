import { McpServer } from '@modelcontextprotocol/server';
import { VERSION } from '../../shared/version.js';
import type { FleetContext, FleetPart, ToolCaller } from '../context.js';
import { v2Registry } from './tool-registry.js';

/**
 * The server instructions: what fleetd is, then each part's own line about its tools, so
 * they name only tools that exist (a part that is not built says nothing).
 */
export function instructionsFor(parts: readonly FleetPart[], era: 'session' | 'stateless' = 'session'): string {
  return [
    'fleetd drives a fleet of machines ("members") over SSH and keeps a durable log of everything that happens on it.',
    ...parts.flatMap((p) => {
      const text = era === 'stateless' ? (p.statelessInstructions ?? p.instructions) : p.instructions;
      return text ? [text] : [];
    }),
  ].join('\n');
}

/** One MCP server per session, declaring logging (or the SDK silently drops notifications). */
export function buildMcpServer(ctx: FleetContext, parts: FleetPart[], caller: ToolCaller): McpServer {
  const server = new McpServer(
    { name: 'fleetd', title: 'fleet', version: VERSION },
    { capabilities: { logging: {}, tools: { listChanged: false } }, instructions: instructionsFor(parts) },
  );
  const registry = v2Registry(server, 'session');
  for (const part of parts) part.tools?.(registry, ctx, caller);
  return server;
}
