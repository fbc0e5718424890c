import { Hono } from 'hono';
import { VERSION } from '../../../shared/version.js';
import type { AppDeps } from '../mount.js';

/** GET /health: liveness without auth; nothing here is secret. */
export function healthRoute(deps: AppDeps): Hono {
  return new Hono().get('/', (c) =>
    c.json({ status: 'ok', name: 'fleetd', version: VERSION, uptimeS: Math.round((Date.now() - deps.ctx.startedAt) / 1000) }),
  );
}

/** GET /status: what `fleetctl status` shows (needs the token). */
export function statusRoute(deps: AppDeps): Hono {
  return new Hono().get('/', (c) => c.json({ ...deps.ctx.status(), sseStreams: deps.streams.size }));
}
