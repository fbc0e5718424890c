import type { CallToolResult } from '@modelcontextprotocol/server';
import { FleetError } from '../errors.js';

/** A successful tool result: a short human summary plus the JSON the model can rely on. */
export function ok(summary: string, data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: `${summary}\n${JSON.stringify(data, null, 2)}` }], structuredContent: data };
}

/** A failed tool result with a clear message (tool failures are results, not protocol errors). */
export function fail(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Runs a tool body; a FleetError (or any error) becomes an isError result instead of a JSON-RPC error. */
export async function guarded<T = CallToolResult>(fn: () => Promise<T | CallToolResult> | T | CallToolResult): Promise<T | CallToolResult> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FleetError) return fail(e.message);
    return fail(`internal error: ${(e as Error).message}`);
  }
}
