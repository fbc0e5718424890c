import { createMcpHandler, isLegacyRequest, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { FleetContext, FleetPart } from '../../context.js';
import { visibleTo } from '../../tools/events.js';
import { boundedRelay } from '../bounded-relay.js';
import { EVENT_ID_META_KEY, touchedUris } from './event-resources.js';
import { VERSION } from '../../../shared/version.js';
import { buildModernServer } from './server.js';
import { TaskExtension } from './task-extension.js';

/**
 * MCP 2026-07-28 on /mcp: each request served statelessly by an SDK v2 server, and
 * subscriptions/listen streams told of every committed event that touches their resources.
 */
export class ModernEndpoint {
  private readonly handler: McpHttpHandler;
  private readonly stopNotify: () => void;
  /** Open SSE responses (listen streams, mostly). */
  openStreams = 0;
  /** Streams cut off because their client stopped reading. */
  cutOffs = 0;
  /** The tasks extension, where the tasks part runs. */
  private readonly tasks: TaskExtension | undefined;

  constructor(
    private readonly ctx: FleetContext,
    parts: FleetPart[],
  ) {
    this.handler = createMcpHandler(() => buildModernServer(ctx, parts, this.tasks !== undefined), {
      legacy: 'reject', // 2025-11-25 stays on the session endpoint (isLegacy routes it there)
      keepAliveMs: ctx.config.sse.keepAlive,
      maxRequestBodySize: ctx.config.bodyLimit,
      maxSubscriptions: ctx.config.mcp.maxListenStreams,
    });
    // After the commit is on disk, so a reader told of an event can always read it.
    this.stopNotify = ctx.log.onCommit((event) => {
      if (!visibleTo(event, undefined, ctx.liveSessions)) return;
      const params = { _meta: { [EVENT_ID_META_KEY]: event.id } };
      for (const uri of touchedUris(event)) this.handler.bus.publish({ kind: 'resource_updated', uri, params });
    });
    const service = parts.find((p) => p.provides?.tasks)?.provides?.tasks;
    this.tasks = service ? new TaskExtension(ctx, service, this.handler.bus, { name: 'fleetd', title: 'fleet', version: VERSION }) : undefined;
  }

  /** The JSON-RPC request a POST carries, for the tasks extension to look at (undefined: not one). */
  private async peek(req: Request): Promise<Record<string, unknown> | undefined> {
    if (!this.tasks || req.method !== 'POST') return undefined;
    try {
      const msg = (await req.clone().json()) as unknown;
      return typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as Record<string, unknown>) : undefined;
    } catch {
      return undefined; // the SDK answers a body that is not JSON
    }
  }

  /** A listen stream refused at the cap (the SDK's own streams count against it too). */
  private listenRefused(id: unknown): Response | undefined {
    if (this.openStreams < this.ctx.config.mcp.maxListenStreams) return undefined;
    return Response.json({ jsonrpc: '2.0', id, error: { code: -32603, message: 'Subscription limit reached' } });
  }

  /**
   * Whether a request belongs to the 2025-11-25 session path: it has a session, or
   * carries no 2026-07-28 `_meta` (initialize, GET/DELETE, a claim-less POST).
   */
  async isLegacy(req: Request): Promise<boolean> {
    if (req.headers.has('mcp-session-id')) return true;
    return isLegacyRequest(req, undefined, { maxRequestBodySize: this.ctx.config.bodyLimit });
  }

  /**
   * Serves one 2026-07-28 request. A stream (a listen stream, or a call that streams) is
   * relayed with the same slow-client bound as a 2025 GET stream: the SDK writes to it
   * without backpressure, and a cut-off client loses nothing (it reads from its cursor).
   */
  async fetch(req: Request, cutOff: () => void = () => {}): Promise<Response> {
    const msg = await this.peek(req);
    const forward = (r: Request) => this.handler.fetch(r);
    const res = (msg && (await this.tasks?.handle(req, msg, forward, () => this.listenRefused(msg.id)))) || (await forward(req));
    if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return res;
    const limit = { maxUnreadBytes: this.ctx.config.mcp.maxUnreadBytes, timeoutMs: this.ctx.config.mcp.slowClientTimeout };
    const hooks = { opened: () => this.openStreams++, closed: () => this.openStreams-- };
    const cut = () => {
      this.cutOffs++;
      cutOff();
    };
    return new Response(boundedRelay(res.body, hooks, undefined, limit, cut), { status: res.status, headers: res.headers });
  }

  /** Stops notifying and ends open listen streams (each gets its graceful completion). */
  async close(): Promise<void> {
    this.stopNotify();
    this.tasks?.close();
    await this.handler.close();
  }
}
