import { Hono } from 'hono';
import { FleetError } from '../errors.js';
import { bearerAuth } from './middleware/auth.js';
import { limitBody } from './middleware/body-limit.js';
import type { AppDeps, RouteMount } from './mount.js';
import { hostGuard } from './middleware/host-guard.js';
import { extraHostNames } from './listen-host.js';
import { eventRoutes } from './routes/events.js';
import { healthRoute, statusRoute } from './routes/status.js';

export type { AppDeps, RouteMount } from './mount.js';

/** Builds the Hono app: guard, auth and body limit in front of thin routes. */
export function createApp(deps: AppDeps, mounts: RouteMount[] = [], publicMounts: RouteMount[] = []): Hono {
  const app = new Hono();
  const hosts = extraHostNames(deps.ctx.config.host);

  app.onError((err, c) => {
    if (err instanceof FleetError) return c.json(err.toJSON(), err.status);
    console.error(`fleetd: unexpected error on ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return c.json(new FleetError('internal', 'internal error; see the fleetd log', 500).toJSON(), 500);
  });
  app.notFound((c) => c.json(new FleetError('not_found', `no route ${c.req.method} ${c.req.path}`, 404).toJSON(), 404));

  // Routes that check their own credentials (a webhook's HMAC) and their own body limit.
  for (const mount of publicMounts) mount(app, deps);

  app.use('*', hostGuard(hosts));
  // Liveness needs no token, but answers only to this machine's names like everything else.
  app.route('/health', healthRoute(deps));
  app.use('*', bearerAuth(deps.token));
  app.use('*', limitBody(deps.ctx.config.bodyLimit));

  app.route('/events', eventRoutes(deps));
  app.route('/status', statusRoute(deps));
  for (const mount of mounts) mount(app, deps);
  return app;
}
