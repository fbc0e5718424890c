import { Hono } from 'hono';
import type { Config } from '../config.js';
import { FleetError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { EventLog } from '../events/event-log.js';
import { bearerAuth } from './middleware/auth.js';
import { limitBody } from './middleware/body-limit.js';
import { hostGuard } from './middleware/host-guard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoute, statusRoute } from './routes/status.js';
import type { StreamRegistry } from './sse-stream.js';

/** What the HTTP layer needs from the daemon: the parts it calls, never their internals. */
export interface AppDeps {
  config: Config;
  token: string;
  home: string;
  startedAt: number;
  log: EventLog;
  bus: EventBus;
  streams: StreamRegistry;
  url: () => string;
  /** More fields for GET /status from parts mounted later (MCP sessions, members...). */
  extraStatus: () => Record<string, unknown>;
}

/** A part that adds its own authenticated routes (MCP, webhooks...). */
export type RouteMount = (app: Hono, deps: AppDeps) => void;

/** Builds the Hono app: guard, auth and body limit in front of thin routes. */
export function createApp(deps: AppDeps, mounts: RouteMount[] = []): Hono {
  const app = new Hono();
  const hosts = deps.config.host === '127.0.0.1' || deps.config.host === 'localhost' ? [] : [deps.config.host];

  app.onError((err, c) => {
    if (err instanceof FleetError) return c.json(err.toJSON(), err.status);
    console.error(`fleetd: unexpected error on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return c.json({ error: { code: 'internal', message: 'internal error; see the fleetd log' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  app.route('/health', healthRoute(deps));

  app.use('*', hostGuard(hosts));
  app.use('*', bearerAuth(deps.token));
  app.use('*', limitBody(deps.config.bodyLimit));

  app.route('/events', eventRoutes(deps));
  app.route('/status', statusRoute(deps));
  for (const mount of mounts) mount(app, deps);
  return app;
}
