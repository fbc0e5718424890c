import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FleetError } from '../../errors.js';

/**
 * Caps request bodies at `maxBytes` (declared or streamed); larger ones get 413.
 *
 * A declared Content-Length is checked before the body stream is touched: once a reader is
 * attached, @hono/node-server cannot drain the unread rest after the answer, and it kills the
 * keep-alive connection 500 ms later, under whatever request the client sent next on it.
 * A streamed body that overflows leaves such a reader behind, so that answer closes the connection.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new FleetError('body_too_large', `request body is larger than the ${maxBytes}-byte limit`, 413);
  const streamed = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      throw tooLarge();
    },
  });
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined && Number(declared) > maxBytes) throw tooLarge();
    return streamed(c, next);
  };
}
