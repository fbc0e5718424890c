import type { MiddlewareHandler } from 'hono';
import { FleetError } from '../../errors.js';
import { deny } from './deny.js';

const LOOPBACK_NAME = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Splits `name:port` (or `[v6]:port`) and returns the lower-cased name. */
function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** True for names that can only mean this machine. */
export function isLoopbackHost(hostHeader: string, extra: ReadonlySet<string> = new Set()): boolean {
  const name = hostName(hostHeader);
  return LOOPBACK_NAME.test(name) || extra.has(name);
}

/**
 * Refuses requests whose Host is not a loopback name, or whose Origin is not a loopback
 * origin, with 403 (JSON-RPC shaped on MCP routes): a web page on another site that rebinds its DNS name to 127.0.0.1
 * still sends its own name in Host and Origin.
 */
export function hostGuard(extraHosts: string[] = []): MiddlewareHandler {
  const extra = new Set(extraHosts.map((h) => h.toLowerCase()));
  return async (c, next) => {
    const host = c.req.header('host');
    if (!host || !isLoopbackHost(host, extra)) {
      return deny(c, new FleetError('forbidden_host', `Host "${(host ?? '').slice(0, 100)}" is not allowed: fleetd answers only to localhost, 127.0.0.1 or [::1]`, 403));
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== 'null') {
      let ok = false;
      try {
        const u = new URL(origin);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHost(u.host, extra);
      } catch {
        ok = false;
      }
      if (!ok) return deny(c, new FleetError('forbidden_origin', `Origin "${origin.slice(0, 100)}" is not allowed: only pages served from this machine may call fleetd`, 403));
    } else if (origin === 'null') {
      return deny(c, new FleetError('forbidden_origin', 'Origin "null" is not allowed: only pages served from this machine may call fleetd', 403));
    }
    await next();
  };
}
