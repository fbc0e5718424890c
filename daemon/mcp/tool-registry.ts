import { CLIENT_CAPABILITIES_META_KEY, inputRequired, inputResponse, type CallToolResult, type McpServer, type ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A tool's description, with its input as a zod raw shape (the form both SDKs take). */
export interface ToolConfig<S extends z.ZodRawShape> {
  title?: string;
  description?: string;
  inputSchema: S;
  annotations?: ToolAnnotations;
}

/** An input-required answer (2026-07-28 multi-round-trip): the client fulfils it and calls again. */
export interface InputRequired {
  readonly resultType: 'input_required';
}

/** Client input in the 2026-07-28 era: the call may ask for it and is retried with the answer. */
export interface ToolInput {
  /** The client declared URL-mode elicitation (`elicitation.url` in its capabilities). */
  urlElicitation: boolean;
  /** How the client answered the input request `key` on this retry, if this is one. */
  answered(key: string): 'accept' | 'decline' | 'cancel' | undefined;
  /** Asks the client to open `url` (URL-mode elicitation); the call is retried afterwards. */
  askUrl(key: string, message: string, url: string): InputRequired;
}

/** What a tool body gets besides its arguments: the call's abort signal, and client input where the era has it. */
export interface ToolExtra {
  signal: AbortSignal;
  /** Only on 2026-07-28 calls. */
  input?: ToolInput;
}

export type ToolBody<S extends z.ZodRawShape> = (args: z.output<z.ZodObject<S>>, extra: ToolExtra) => Promise<CallToolResult | InputRequired> | CallToolResult | InputRequired;

/**
 * Where a part registers its tools, on an SDK v2 McpServer of either era: the 2025-11-25
 * session server (HTTP sessions, stdio, legacy /sse) or the 2026-07-28 per-request one.
 * Parts define each tool once against this.
 */
export interface ToolRegistry {
  registerTool<S extends z.ZodRawShape>(name: string, config: ToolConfig<S>, body: ToolBody<S>): void;
}

/**
 * Registers on an SDK v2 McpServer: the shape wrapped in z.object, the signal from ctx.mcpReq.
 * Client input (multi-round-trip) exists only in the 2026-07-28 ('stateless') era.
 */
export function v2Registry(server: McpServer, era: 'session' | 'stateless' = 'stateless'): ToolRegistry {
  return {
    registerTool(name, config, body) {
      const def = { ...config, inputSchema: z.object(config.inputSchema) };
      const register = server.registerTool.bind(server) as unknown as (n: string, c: unknown, cb: V2Body) => void;
      register(name, def, (args, ctx) => body(args, era === 'session' ? { signal: ctx.mcpReq.signal } : { signal: ctx.mcpReq.signal, input: toolInput(ctx) }));
    },
  };
}

type V2Context = { mcpReq: { signal: AbortSignal; inputResponses?: Record<string, unknown>; envelope?: Record<string, unknown> } };
type V2Body = (args: never, ctx: V2Context) => unknown;

function toolInput(ctx: V2Context): ToolInput {
  const caps = ctx.mcpReq.envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: { url?: unknown } } | undefined;
  return {
    urlElicitation: caps?.elicitation?.url !== undefined,
    answered(key) {
      const r = inputResponse(ctx.mcpReq.inputResponses, key);
      return r.kind === 'elicit' ? r.action : undefined;
    },
    askUrl(key, message, url) {
      return inputRequired({ inputRequests: { [key]: inputRequired.elicitUrl({ message, url }) } }) as InputRequired;
    },
  };
}
