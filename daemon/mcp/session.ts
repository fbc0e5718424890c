import type { McpServer, Transport } from '@modelcontextprotocol/server';
import type { FleetContext, FleetPart, ToolCaller } from '../context.js';
import { EventPusher } from './event-pusher.js';
import { buildMcpServer } from './server-factory.js';

export type SessionKind = 'streamable' | 'sse' | 'stdio';

/** One MCP client: its server, transport, event pusher and wait_for_events cursor. */
export class McpSession<T extends Transport = Transport> {
  readonly server: McpServer;
  readonly caller: ToolCaller;
  readonly pusher: EventPusher;
  lastSeen = Date.now();
  openStreams = 0;
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly kind: SessionKind,
    readonly transport: T,
    ctx: FleetContext,
    parts: FleetPart[],
    /** Fleet event id to push from (a relay resuming after a daemon restart); default: now. */
    resumeAfter = ctx.log.lastId,
  ) {
    this.caller = { sessionId: kind === 'stdio' ? undefined : id, cursor: resumeAfter };
    this.server = buildMcpServer(ctx, parts, this.caller);
    const sid = this.caller.sessionId;
    this.pusher = new EventPusher(ctx, sid, (e) => this.server.server.sendLoggingMessage({ level: e.level, logger: 'fleet', data: e }, sid), resumeAfter);
  }

  /** Connects server and transport. */
  connect(): Promise<void> {
    return this.server.connect(this.transport);
  }

  touch(): void {
    this.lastSeen = Date.now();
  }

  /** Stops pushing and closes the server (and so the transport); safe to call twice. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.pusher.stop();
      await this.server.close().catch(() => undefined);
    })());
  }
}
