import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { FleetError } from '../../errors.js';
import { deny } from './deny.js';

// Hashing first gives equal lengths, so the comparison is constant-time whatever was sent.
function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The bearer token carried by a request, if any. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Requires `Authorization: Bearer <token>`; answers 401 otherwise (JSON-RPC shaped on MCP routes). The presented value is
 * never echoed back or logged.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const tokenHash = sha256(token); // hashed once, not on every request
  return async (c, next) => {
    const presented = bearerOf(c.req.header('authorization'));
    if (presented === undefined || !timingSafeEqual(sha256(presented), tokenHash)) {
      const why = presented === undefined ? 'missing bearer token' : 'wrong bearer token';
      const error = new FleetError('unauthorized', `${why}: send "Authorization: Bearer <token>" with the token from FLEET_HOME/token (or FLEET_TOKEN)`, 401);
      return deny(c, error, { 'WWW-Authenticate': 'Bearer realm="fleetd"' });
    }
    await next();
  };
}
