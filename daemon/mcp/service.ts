import type { ServerResponse } from 'node:http';
import type { Hono } from 'hono';
import type { FleetContext, FleetPart } from '../context.js';
import { LegacySseEndpoint } from './legacy-sse.js';
import { McpMessageStore } from './message-store.js';
import { SessionTable } from './session-table.js';
import { StreamableHttpEndpoint } from './streamable-http.js';

/** Everything MCP over HTTP: the session table, /mcp, and the legacy /sse + /messages. */
export class McpService {
  private readonly sessions: SessionTable;
  private readonly streamable: StreamableHttpEndpoint;
  private readonly legacy: LegacySseEndpoint;
  private readonly store: McpMessageStore;

  constructor(ctx: FleetContext, parts: FleetPart[]) {
    const store = (this.store = new McpMessageStore(ctx.paths.db, ctx.config.mcp.sessionBacklog, (m) => ctx.redactor.redactDeep(m)));
    this.sessions = new SessionTable(ctx, store, ctx.config.mcp.sessionIdle, ctx.config.mcp.maxSessions);
    this.streamable = new StreamableHttpEndpoint(ctx, parts, this.sessions, store);
    this.legacy = new LegacySseEndpoint(ctx, parts, this.sessions);
  }

  /** What GET /status and fleet_status show about MCP. */
  status(): Record<string, unknown> {
    return { mcpSessions: this.sessions.size, mcpMaxSessions: this.sessions.maxSessions, mcpStreamsCutOff: this.streamable.cutOffs };
  }

  /** Adds the MCP routes (behind the app's guard, auth and body limit). */
  mount(app: Hono): void {
    app.on(['GET', 'POST', 'DELETE'], '/mcp', (c) => {
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
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
    await this.sessions.drainAll();
    await this.sessions.closeAll();
    this.store.close();
  }
}
