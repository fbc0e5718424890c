import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A tool's description, with its input as a zod raw shape (the form both SDKs take). */
export interface ToolConfig<S extends z.ZodRawShape> {
  title?: string;
  description?: string;
  inputSchema: S;
  annotations?: ToolAnnotations;
}

/** What a tool body gets besides its arguments: the call's abort signal (both SDKs have one). */
export interface ToolExtra {
  signal: AbortSignal;
}

export type ToolBody<S extends z.ZodRawShape> = (args: z.output<z.ZodObject<S>>, extra: ToolExtra) => Promise<CallToolResult> | CallToolResult;

/**
 * Where a part registers its tools: the 2025-11-25 session server (SDK v1) or the
 * 2026-07-28 per-request server (SDK v2). Parts define each tool once against this.
 */
export interface ToolRegistry {
  registerTool<S extends z.ZodRawShape>(name: string, config: ToolConfig<S>, body: ToolBody<S>): void;
}

/** Registers on an SDK v1 McpServer (2025-11-25 sessions, stdio, legacy /sse). */
export function v1Registry(server: McpServerV1): ToolRegistry {
  return {
    registerTool(name, config, body) {
      // v1's overloads cannot see through the generic shape; the call is the one it documents.
      const register = server.registerTool.bind(server) as unknown as (n: string, c: unknown, cb: (args: never, extra: ToolExtra) => unknown) => void;
      register(name, config, (args, extra) => body(args, { signal: extra.signal }));
    },
  };
}

/** Registers on an SDK v2 McpServer (2026-07-28, stateless): the shape wrapped in z.object, the signal from ctx.mcpReq. */
export function v2Registry(server: McpServerV2): ToolRegistry {
  return {
    registerTool(name, config, body) {
      const def = { ...config, inputSchema: z.object(config.inputSchema) };
      type V2Body = (args: never, ctx: { mcpReq: { signal: AbortSignal } }) => unknown;
      const register = server.registerTool.bind(server) as unknown as (n: string, c: unknown, cb: V2Body) => void;
      register(name, def, (args, ctx) => body(args, { signal: ctx.mcpReq.signal }));
    },
  };
}
