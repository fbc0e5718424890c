import type { Hono } from 'hono';
import type { FleetContext } from '../fleet-context.js';
import type { StreamRegistry } from './sse-stream.js';

/** What the HTTP layer needs from the daemon: the shared context, the token, open streams. */
export interface AppDeps {
  ctx: FleetContext;
  token: string;
  streams: StreamRegistry;
}

/** A part that adds routes behind the guard, auth and body limit (MCP...). */
export type RouteMount = (app: Hono, deps: AppDeps) => void;
