import { Hono } from 'hono';
import type { CredentialsService } from './service.js';

/** /credentials over REST (bearer token) for `fleetctl secret list|rm`: metadata only, never values. */
export function credentialRoutes(service: CredentialsService): Hono {
  return new Hono()
    .get('/', (c) => c.json({ credentials: service.list() }))
    .delete('/:name', async (c) => c.json(await service.delete(c.req.param('name'))));
}
