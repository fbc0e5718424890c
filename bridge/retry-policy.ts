import type { JsonRpcRequest } from './jsonrpc.js';

/** Methods that only read: running one twice after fleetd vanished mid-call is harmless. */
const SAFE_METHODS = new Set([
  'ping',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  // Tasks extension: reading a task, and cancelling one (a second cancel of an ended task changes nothing).
  'tasks/get',
  'tasks/cancel',
]);

/**
 * Decides which requests the bridge may send again when fleetd went away after receiving
 * them. A tool call qualifies only when the server marked the tool readOnlyHint or
 * idempotentHint in tools/list (learned as the answers pass through); anything else may
 * have had an effect, so the client gets a clear error instead of a silent second run.
 */
export class RetryPolicy {
  private readonly safeTools = new Set<string>();

  /** Learns tool annotations from a tools/list result. */
  learnTools(result: Record<string, unknown> | undefined): void {
    const tools = result?.tools;
    if (!Array.isArray(tools)) return;
    for (const t of tools as { name?: unknown; annotations?: { readOnlyHint?: unknown; idempotentHint?: unknown } }[]) {
      if (typeof t?.name !== 'string') continue;
      if (t.annotations?.readOnlyHint === true || t.annotations?.idempotentHint === true) this.safeTools.add(t.name);
      else this.safeTools.delete(t.name);
    }
  }

  /** True when sending `request` a second time cannot do harm. */
  retryable(request: JsonRpcRequest): boolean {
    if (SAFE_METHODS.has(request.method)) return true;
    return request.method === 'tools/call' && typeof request.params?.name === 'string' && this.safeTools.has(request.params.name);
  }
}
