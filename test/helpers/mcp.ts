import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FleetdProcess } from './fleetd.js';

export interface FleetEventLike {
  id: number;
  topic: string;
  message: string;
  level: string;
  session?: string;
  [k: string]: unknown;
}

/** An SDK MCP client connected to a real fleetd, collecting pushed fleet events. */
export class McpTestClient {
  readonly client = new Client({ name: 'fleet-test', version: '1.0.0' });
  readonly pushed: FleetEventLike[] = [];
  private waiters: (() => void)[] = [];

  private constructor() {
    this.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if (n.params.logger === 'fleet') this.pushed.push(n.params.data as FleetEventLike);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** Connects over Streamable HTTP (/mcp) or legacy SSE (/sse). */
  static async connect(fleetd: FleetdProcess, kind: 'http' | 'sse' = 'http'): Promise<McpTestClient> {
    const c = new McpTestClient();
    const headers = fleetd.auth;
    const transport =
      kind === 'http'
        ? new StreamableHTTPClientTransport(new URL(`${fleetd.url}/mcp`), { requestInit: { headers } })
        : new SSEClientTransport(new URL(`${fleetd.url}/sse`), {
            requestInit: { headers },
            eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
          });
    await c.client.connect(transport);
    return c;
  }

  get sessionId(): string | undefined {
    return (this.client.transport as StreamableHTTPClientTransport | undefined)?.sessionId;
  }

  /** Calls a tool and returns its structured result (throws when the tool failed). */
  async call<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = (await this.client.callTool({ name, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${name} failed: ${(r.content[0] as { text: string }).text}`);
    return r.structuredContent as T;
  }

  /** Calls a tool and returns the raw result, failures included. */
  raw(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return this.client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
  }

  /** Waits until pushed events satisfy `pred`. */
  async waitForPushed(what: string, pred: (events: FleetEventLike[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.pushed)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for pushed ${what}; got topics ${this.pushed.map((e) => e.topic).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
