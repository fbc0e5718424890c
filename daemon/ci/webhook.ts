import type { Hono } from 'hono';
import { FleetError } from '../errors.js';
import { limitBody } from '../http/middleware/body-limit.js';
import type { AppDeps } from '../http/mount.js';
import { isWebhookEvent, observationsOf } from './payloads.js';
import type { CiService } from './service.js';
import { signatureMatches } from './signature.js';

export const WEBHOOK_PATH = '/webhooks/github';

/**
 * POST /webhooks/github: public (GitHub has no bearer token, and a tunnel sends its own Host),
 * so the HMAC in X-Hub-Signature-256 is its only credential. Order: size, signature, event
 * type, JSON and shape, then the delivery id, so nothing unsigned is parsed or remembered.
 */
export function mountWebhook(service: CiService): (app: Hono, deps: AppDeps) => void {
  return (app, deps) => {
    app.use(WEBHOOK_PATH, limitBody(deps.ctx.config.webhookBodyLimit));
    app.post(WEBHOOK_PATH, async (c) => {
      const secret = service.webhookSecret();
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (!signatureMatches(secret, body, c.req.header('x-hub-signature-256'))) {
        throw new FleetError('bad_signature', 'X-Hub-Signature-256 is missing or does not match this body: sign it with the secret `fleetctl ci setup` made (HMAC-SHA256)', 401);
      }
      const event = c.req.header('x-github-event') ?? '';
      if (event === 'ping') return c.json({ ok: true, pong: true });
      if (!isWebhookEvent(event)) return c.json({ ok: true, ignored: `event type "${event.slice(0, 60)}" is not read: fleet reads check_run, check_suite, workflow_run and status` }, 202);
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(body).toString('utf8'));
      } catch {
        throw new FleetError('bad_webhook', 'the body is not JSON: set the webhook\'s content type to application/json', 400);
      }
      let observations;
      try {
        observations = observationsOf(event, payload);
      } catch (e) {
        const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
        const why = issues ? issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') : (e as Error).message;
        throw new FleetError('bad_webhook', `the ${event} payload does not have GitHub's documented shape: ${why}`, 400);
      }
      const delivery = c.req.header('x-github-delivery');
      if (delivery !== undefined && !/^[A-Za-z0-9-]{1,100}$/.test(delivery)) throw new FleetError('bad_webhook', 'X-GitHub-Delivery must be GitHub\'s delivery id (letters, digits, dashes)', 400);
      if (delivery && !service.store.claimDelivery(delivery)) return c.json({ ok: true, duplicate: delivery });
      try {
        const events = await service.recordAll(observations);
        return c.json({ ok: true, events: events.map((e) => e.id) });
      } catch (e) {
        if (delivery) service.store.releaseDelivery(delivery);
        throw e;
      }
    });
  };
}
