import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error a user can act on: a stable code, an HTTP status, and a message that says what to do. */
export class FleetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: ContentfulStatusCode = 400,
  ) {
    super(message);
    this.name = 'FleetError';
  }

  /** The one JSON shape of every error outside MCP. */
  toJSON() {
    return { error: { code: this.code, message: this.message } };
  }
}
