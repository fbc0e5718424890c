import { randomUUID } from 'node:crypto';
import type { FleetContext, FleetPart } from '../context.js';
import { invalidRequest, readJsonRpcBody, rpcError, RPC, sessionsFull } from './jsonrpc-errors.js';
import { LegacySseTransport } from './legacy-sse-transport.js';
import { McpSession } from './session.js';
import type { SessionTable } from './session-table.js';

/** GET /sse and POST /messages?sessionId=: the legacy HTTP+SSE transport (`"type": "sse"`). */
export class LegacySseEndpoint {
  constructor(
    private readonly ctx: FleetContext,
    private readonly parts: FleetPart[],
    private readonly sessions: SessionTable,
  ) {}

  /** Opens a session whose lifetime is the stream's; `cutOff` ends the connection of a client that stopped reading. */
  async open(cutOff: () => void = () => {}): Promise<Response> {
    const release = this.sessions.reserve();
    if (!release) return sessionsFull(this.sessions.maxSessions);
    try {
      return await this.start(cutOff);
    } finally {
      release();
    }
  }

  private async start(cutOff: () => void): Promise<Response> {
    const id = randomUUID();
    const transport = new LegacySseTransport(id, `/messages?sessionId=${id}`, this.ctx.config.sse.keepAlive, this.ctx.config.mcp.maxUnreadBytes, cutOff);
    const session = new McpSession(id, 'sse', transport, this.ctx, this.parts);
    // connect() chains the server's own onclose after this one.
    transport.onclose = () => void this.sessions.close(id);
    await session.connect();
    session.openStreams = 1;
    this.sessions.add(session);
    const res = transport.response();
    session.pusher.start();
    return res;
  }

  /** Accepts one client message for a session (202), or says why not. */
  async post(req: Request, sessionId: string | undefined): Promise<Response> {
    if (!sessionId) return rpcError(400, RPC.invalidRequest, 'missing sessionId query parameter: use the endpoint URL sent on the /sse stream');
    const session = this.sessions.get(sessionId);
    if (!session || session.kind !== 'sse') return rpcError(404, RPC.sessionNotFound, 'Session not found: open a new /sse stream');
    const parsed = await readJsonRpcBody(req);
    if ('error' in parsed) return parsed.error;
    const invalid = invalidRequest(parsed.body);
    if (invalid) return invalid;
    session.touch();
    try {
      (session.transport as LegacySseTransport).receive(parsed.body);
    } catch (e) {
      return rpcError(400, RPC.invalidRequest, `Invalid Request: ${(e as Error).message}`);
    }
    return new Response('Accepted', { status: 202 });
  }
}
