import { Hono } from 'hono';
import { z } from 'zod';
import { FleetError } from '../errors.js';
import type { CiService } from './service.js';
import { WEBHOOK_PATH } from './webhook.js';

/** The events to tick on GitHub's webhook form. */
export const WEBHOOK_EVENTS = ['Check runs', 'Check suites', 'Statuses', 'Workflow runs'];

const WatchBody = z.object({ repo: z.string().max(300), branch: z.string().max(300).optional(), workflow: z.string().max(300).optional() }).strict();

async function watchBody(c: { req: { json: () => Promise<unknown> } }): Promise<z.infer<typeof WatchBody>> {
  const parsed = WatchBody.safeParse(await c.req.json().catch(() => undefined));
  if (!parsed.success) throw new FleetError('bad_repo', 'send JSON {"repo": "owner/name", "branch"?: "main", "workflow"?: "CI"}');
  return parsed.data;
}

/** /ci over REST (bearer token) for fleetctl ci: watches and what `fleetctl ci setup` prints. */
export function ciRoutes(service: CiService, settings: { url: () => string; secretCredential: string }): Hono {
  return new Hono()
    .get('/webhook', (c) =>
      c.json({ path: WEBHOOK_PATH, localUrl: `${settings.url()}${WEBHOOK_PATH}`, secretCredential: settings.secretCredential, contentType: 'application/json', events: WEBHOOK_EVENTS }),
    )
    .get('/watches', (c) => c.json({ watches: service.list() }))
    .post('/watches', async (c) => c.json({ watch: service.watch(await watchBody(c)) }, 201))
    .delete('/watches', async (c) => c.json(service.unwatch(await watchBody(c))));
}
