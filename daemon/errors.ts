import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody, ErrorCode } from '../shared/protocol.js';

export type { ErrorCode } from '../shared/protocol.js';

/** An error a user can act on: a stable code, an HTTP status, and a message that says what to do. */
export class FleetError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: ContentfulStatusCode = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FleetError';
  }

  /** The one JSON shape of every error outside MCP. */
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
