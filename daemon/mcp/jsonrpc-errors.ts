/** JSON-RPC error codes fleetd answers with, one per distinct failure. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  sessionNotFound: -32001,
  badLastEventId: -32002,
  notInitialized: -32003,
} as const;

/** An HTTP response carrying a JSON-RPC error (id null: the request could not be read). */
export function rpcError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json' },
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
