import { Hono } from 'hono';
import { VERSION } from '../../../shared/version.js';
import type { AppDeps } from '../app.js';

/** GET /health: liveness without auth; nothing here is secret. */
export function healthRoute(deps: AppDeps): Hono {
  return new Hono().get('/', (c) =>
    c.json({ status: 'ok', name: 'fleetd', version: VERSION, uptimeS: Math.round((Date.now() - deps.startedAt) / 1000) }),
  );
}

/** GET /status: what `fleetctl status` shows (needs the token). */
export function statusRoute(deps: AppDeps): Hono {
  return new Hono().get('/', (c) =>
    c.json({
      name: 'fleetd',
      version: VERSION,
      pid: process.pid,
      url: deps.url(),
      home: deps.home,
      startedAt: new Date(deps.startedAt).toISOString(),
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      lastEventId: deps.log.lastId,
      eventsStored: deps.log.count(),
      sseStreams: deps.streams.size,
      ...deps.extraStatus(),
    }),
  );
}
