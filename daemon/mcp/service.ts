import type { ServerResponse } from 'node:http';
import type { Hono } from 'hono';
import type { FleetContext, FleetPart } from '../context.js';
import { LegacySseEndpoint } from './legacy-sse.js';
import { McpMessageStore } from './message-store.js';
import { ModernEndpoint } from './modern/endpoint.js';
import { SessionTable } from './session-table.js';
import { StreamableHttpEndpoint } from './streamable-http.js';

/** Everything MCP over HTTP: the session table, /mcp, and the legacy /sse + /messages. */
export class McpService {
  private readonly sessions: SessionTable;
  private readonly streamable: StreamableHttpEndpoint;
  private readonly legacy: LegacySseEndpoint;
  private readonly store: McpMessageStore;
  /** MCP 2026-07-28 beside the sessions, when config mcp.modern is on. */
  private readonly modern: ModernEndpoint | undefined;

  constructor(ctx: FleetContext, parts: FleetPart[]) {
    const store = (this.store = new McpMessageStore(ctx.paths.db, ctx.config.mcp.sessionBacklog, (m) => ctx.redactor.redactDeep(m)));
    this.sessions = new SessionTable(ctx, store, ctx.config.mcp.sessionIdle, ctx.config.mcp.maxSessions);
    this.streamable = new StreamableHttpEndpoint(ctx, parts, this.sessions, store);
    this.legacy = new LegacySseEndpoint(ctx, parts, this.sessions);
    this.modern = ctx.config.mcp.modern ? new ModernEndpoint(ctx, parts) : undefined;
  }

  /** What GET /status and fleet_status show about MCP. */
  status(): Record<string, unknown> {
    const modern = this.modern ? { mcpModernStreams: this.modern.openStreams, mcpModernStreamsCutOff: this.modern.cutOffs } : {};
    return { mcpSessions: this.sessions.size, mcpMaxSessions: this.sessions.maxSessions, mcpStreamsCutOff: this.streamable.cutOffs, ...modern };
  }

  /** Adds the MCP routes (behind the app's guard, auth and body limit). */
  mount(app: Hono): void {
    app.on(['GET', 'POST', 'DELETE'], '/mcp', async (c) => {
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      // The era is chosen per request (spec: versioning): 2026-07-28 `_meta` goes to the stateless server, the rest to sessions.
      if (this.modern && !(await this.modern.isLegacy(c.req.raw))) return this.modern.fetch(c.req.raw, () => outgoing?.destroy());
      return this.streamable.handle(c.req.raw, () => outgoing?.destroy());
    });
    app.get('/sse', (c) => {
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      return this.legacy.open(() => outgoing?.destroy());
    });
    app.post('/messages', (c) => this.legacy.post(c.req.raw, c.req.query('sessionId')));
  }

  /** Delivers what is committed (fleet.stopping included), then ends every session and closes the message store. */
  async closeAll(): Promise<void> {
    await this.modern?.close();
    await this.sessions.drainAll();
    await this.sessions.closeAll();
    this.store.close();
  }
}
