/**
 * The JSON-RPC 2.0 envelope as MCP uses it, and checks for messages crossing the bridge.
 * Hand-written guards rather than zod: zod costs about 30 ms to import on this machine
 * class, a fifth of the bridge's start-up budget, and only the envelope is checked here
 * (fleetd validates params itself).
 */
export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: Record<string, unknown>;
  error?: JsonRpcErrorObject;
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** What a parsed value turned out to be. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; reason: string; id: JsonRpcId | null };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Sorts a parsed JSON value into request, notification, response, or invalid (with why). */
export function classify(value: unknown): Classified {
  if (!isObject(value)) return { kind: 'invalid', reason: 'a JSON-RPC message must be a JSON object', id: null };
  const id = isId(value.id) ? value.id : null;
  if (value.jsonrpc !== '2.0') return { kind: 'invalid', reason: 'missing "jsonrpc": "2.0"', id };
  if ('params' in value && !isObject(value.params)) return { kind: 'invalid', reason: '"params" must be an object', id };
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '') return { kind: 'invalid', reason: '"method" must be a non-empty string', id };
    if (!('id' in value)) return { kind: 'notification', message: value as unknown as JsonRpcNotification };
    // MCP forbids null ids on requests (JSON-RPC allows them only for errors).
    if (!isId(value.id)) return { kind: 'invalid', reason: '"id" must be a string or a number', id: null };
    return { kind: 'request', message: value as unknown as JsonRpcRequest };
  }
  if (!('id' in value) || (value.id !== null && !isId(value.id))) return { kind: 'invalid', reason: 'neither a request (no "method") nor a response (no valid "id")', id };
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return { kind: 'invalid', reason: 'a response needs exactly one of "result" and "error"', id };
  if (hasError) {
    const e = value.error;
    if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') return { kind: 'invalid', reason: '"error" needs a numeric "code" and a string "message"', id };
  } else if (!isObject(value.result)) return { kind: 'invalid', reason: '"result" must be an object', id };
  return { kind: 'response', message: value as unknown as JsonRpcResponse };
}

/** A JSON-RPC error response. */
export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** A map key for an id that keeps `1` and `"1"` apart, as JSON-RPC does. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** True for a response (result or error) rather than a request or notification. */
export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m);
}

/** True for a request (has both method and id). */
export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m;
}
