import type { Context, Hono } from 'hono';
import { hostGuard } from '../http/middleware/host-guard.js';
import { extraHostNames } from '../http/listen-host.js';
import type { AppDeps } from '../http/mount.js';
import { FleetError } from '../errors.js';
import type { CredentialsService } from './service.js';
import { MIN_VALUE_LENGTH } from './vault.js';

const MAX_FORM_BYTES = 256 * 1024;

/** Headers of every answer: nothing runs, nothing loads, nothing is cached or framed. */
const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it a browser sends `Origin: null` on the form's POST, which we refuse.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(c: Context, status: 200 | 400 | 403 | 410 | 413, title: string, body: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
  return c.body(html, status, PAGE_HEADERS);
}

function form(c: Context, name: string, code: string, error?: string): Response {
  return page(
    c,
    error ? 400 : 200,
    `Enter secret: ${name}`,
    `${error ? `<p><strong>${escape(error)}</strong></p>` : ''}<p>fleetd stores it encrypted; the agent that asked never sees it. This page works once.</p>` +
      `<form method="post" action="/credentials/enter" autocomplete="off"><input type="hidden" name="code" value="${escape(code)}">` +
      `<label>Value <input type="password" name="value" required minlength="${MIN_VALUE_LENGTH}" autofocus></label> <button type="submit">Store</button></form>`,
  );
}

const gone = (c: Context) => page(c, 410, 'This link no longer works', '<p>It was used already or has expired. Ask the agent for a new one, or run <code>fleetctl secret set NAME</code>.</p>');

/**
 * GET/POST /credentials/enter: the one-time entry page. Public (a browser has no bearer
 * token) but behind the Host/Origin guard; the single-use code is the authorization, and
 * the POST must come from fleetd's own origin (the Host it was sent to).
 */
export function mountEntryPage(service: CredentialsService): (app: Hono, deps: AppDeps) => void {
  return (app, deps) => {
    app.use('/credentials/enter', hostGuard(extraHostNames(deps.ctx.config.host)));
    app.get('/credentials/enter', (c) => {
      const code = c.req.query('code');
      const name = service.codes.peek(code);
      return name === undefined ? gone(c) : form(c, name, code!);
    });
    app.post('/credentials/enter', async (c) => {
      const origin = c.req.header('origin');
      const own = `http://${c.req.header('host') ?? ''}`;
      if (origin !== own) {
        return page(c, 403, 'Refused', `<p>This form only accepts submissions from ${escape(own)} itself (Origin was ${escape(origin ?? 'missing')}).</p>`);
      }
      const length = Number(c.req.header('content-length') ?? NaN);
      if (!(length <= MAX_FORM_BYTES)) return page(c, 413, 'Too large', '<p>The value is too large.</p>');
      const text = await c.req.text();
      if (text.length > MAX_FORM_BYTES) return page(c, 413, 'Too large', '<p>The value is too large.</p>');
      const params = new URLSearchParams(text);
      const code = params.get('code') ?? undefined;
      const value = params.get('value') ?? '';
      const name = service.codes.peek(code);
      if (name === undefined) return gone(c);
      // A value too short to redact is sent back to the form with the code still valid.
      if (value.length < MIN_VALUE_LENGTH) return form(c, name, code!, `At least ${MIN_VALUE_LENGTH} characters are needed so the value can be hidden from output.`);
      if (service.codes.consume(code) === undefined) return gone(c);
      try {
        await service.store(name, value, { via: 'page' });
      } catch (e) {
        const message = e instanceof FleetError ? e.message : 'internal error; see the fleetd log';
        if (!(e instanceof FleetError)) console.error(`fleetd: storing ${name} from the entry page failed: ${(e as Error).message}`);
        return page(c, 400, 'Not stored', `<p>${escape(message)}</p>`);
      }
      return page(c, 200, `✓ Secret stored: ${name}`, '<p>You can close this page.</p>');
    });
  };
}
