import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FleetError } from '../../errors.js';

/** Caps request bodies at `maxBytes` (declared or streamed); larger ones get 413. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new FleetError('body_too_large', `request body is larger than the ${maxBytes}-byte limit`, 413);
    },
  });
}
