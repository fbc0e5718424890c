import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FleetError } from '../../errors.js';
import { deny } from './deny.js';

/**
 * Caps request bodies at `maxBytes` (declared or streamed); larger ones get 413 (JSON-RPC shaped on MCP routes).
 *
 * Requests without a body and bodies with a declared Content-Length are checked without
 * touching the body stream: Node's parser never delivers more than the declared length, and
 * leaving the body alone keeps @hono/node-server's lightweight request (no web Request,
 * stream or AbortSignal built per request). It also lets the server drain an unread
 * oversized body and keep the connection: once a reader is attached it cannot, and it
 * kills the keep-alive connection 500 ms later, under whatever request came next on it.
 * A streamed (chunked) body is counted as it is read; an overflow there leaves such a
 * reader behind, so that answer closes the connection.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new FleetError('body_too_large', `request body is larger than the ${maxBytes}-byte limit`, 413);
  const streamed = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      return deny(c, tooLarge(), { Connection: 'close' });
    },
  });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (c.req.header('transfer-encoding') === undefined) {
      const declared = c.req.header('content-length');
      if (declared === undefined || /^\d+$/.test(declared)) {
        if (Number(declared ?? 0) > maxBytes) return deny(c, tooLarge());
        return next();
      }
    }
    return streamed(c, next);
  };
}
