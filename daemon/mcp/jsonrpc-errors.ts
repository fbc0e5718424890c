import { isSpecType } from '@modelcontextprotocol/server';

/** JSON-RPC error codes fleetd answers with, one per distinct failure. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  sessionNotFound: -32001,
  badLastEventId: -32002,
  notInitialized: -32003,
  sessionsFull: -32004,
  unauthorized: -32005,
  forbidden: -32006,
  bodyTooLarge: -32007,
} as const;

/**
 * An HTTP response carrying a JSON-RPC error (id null: the request could not be read).
 * `data` carries fleet's own error code where there is one; `headers` are added to the answer.
 */
export function rpcError(status: number, code: number, message: string, data?: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  const error = data === undefined ? { code, message } : { code, message, data };
  return new Response(JSON.stringify({ jsonrpc: '2.0', error, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Parses a request body as JSON, or returns the JSON-RPC parse-error response. */
export async function readJsonRpcBody(req: Request): Promise<{ body: unknown } | { error: Response }> {
  const text = await req.text();
  try {
    return { body: JSON.parse(text) };
  } catch (e) {
    return { error: rpcError(400, RPC.parseError, `Parse error: the body is not valid JSON (${(e as Error).message})`) };
  }
}

/** Most messages one POST may carry; more is abuse, not a client. */
export const MAX_BATCH = 100;

/**
 * Checks that a parsed body is one JSON-RPC 2.0 message or a non-empty, bounded batch of
 * them; returns the -32600 response to send when it is not. (The SDK would answer -32700,
 * "parse error", for JSON that parsed fine.)
 */
export function invalidRequest(body: unknown): Response | undefined {
  const messages = Array.isArray(body) ? body : [body];
  if (messages.length === 0) return rpcError(400, RPC.invalidRequest, 'Invalid Request: empty batch');
  if (messages.length > MAX_BATCH) return rpcError(400, RPC.invalidRequest, `Invalid Request: batch of ${messages.length} messages; at most ${MAX_BATCH}`);
  const bad = messages.findIndex((m) => !isSpecType.JSONRPCMessage(m));
  if (bad !== -1) {
    const where = Array.isArray(body) ? `message ${bad} of the batch` : 'the body';
    return rpcError(400, RPC.invalidRequest, `Invalid Request: ${where} is not a JSON-RPC 2.0 request, notification or response`);
  }
  return undefined;
}

/** 503 when every one of config mcp.maxSessions sessions holds an open stream (none could be expired). */
export function sessionsFull(max: number): Response {
  return rpcError(
    503,
    RPC.sessionsFull,
    `fleetd already serves ${max} MCP sessions, its cap (mcp.maxSessions in FLEET_HOME/config.json), and every one holds an open stream, so none could be expired: close clients you no longer use (DELETE /mcp with their Mcp-Session-Id, or close their /sse stream), or raise mcp.maxSessions and restart fleetd`,
    { code: 'too_many_sessions', maxSessions: max },
    { 'retry-after': '5' },
  );
}
