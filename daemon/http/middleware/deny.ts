import type { Context } from 'hono';
import type { FleetError } from '../../errors.js';
import { rpcError, RPC } from '../../mcp/jsonrpc-errors.js';

/** Routes whose clients are MCP clients: they read errors only as JSON-RPC error bodies. */
const MCP_ROUTES = new Set(['/mcp', '/messages']);

const RPC_CODE_BY_STATUS: Record<number, number> = { 401: RPC.unauthorized, 403: RPC.forbidden, 413: RPC.bodyTooLarge };

/**
 * Refuses a request from middleware. On /mcp and /messages the answer is a JSON-RPC error
 * body (an MCP client such as the Python SDK shows any other body only as "Server returned
 * an error response"), with fleet's code in `error.data.code`; elsewhere the error is thrown
 * for the app's error handler and its one REST shape.
 */
export function deny(c: Context, error: FleetError, headers: Record<string, string> = {}): Response {
  if (!MCP_ROUTES.has(c.req.path)) {
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    throw error;
  }
  return rpcError(error.status, RPC_CODE_BY_STATUS[error.status] ?? RPC.invalidRequest, error.message, { code: error.code }, headers);
}
