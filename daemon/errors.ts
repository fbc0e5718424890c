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

/** Wraps a parse failure (TypeError from shared parsers) as a 400 with the given code. */
export function badInput(code: string, fn: () => unknown): never | unknown {
  try {
    return fn();
  } catch (e) {
    throw new FleetError(code, (e as Error).message, 400);
  }
}
