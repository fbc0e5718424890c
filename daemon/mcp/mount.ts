import type { RouteMount } from '../http/app.js';

/** MCP routes (/mcp, /sse, /messages); filled in by the MCP part. */
export function mcpMounts(): RouteMount[] {
  return [];
}
