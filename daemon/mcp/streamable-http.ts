import { randomUUID } from 'node:crypto';
import { isInitializeRequest, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { FleetContext, FleetPart } from '../context.js';
import { invalidRequest, readJsonRpcBody, rpcError, RPC, sessionsFull } from './jsonrpc-errors.js';
import { GET_STREAM, type McpMessageStore } from './message-store.js';
import { McpSession } from './session.js';
import type { SessionTable } from './session-table.js';
import { boundedRelay, type SlowClientLimit } from './bounded-relay.js';
import { RESUME_AFTER_HEADER } from '../../shared/protocol.js';

type StreamableSession = McpSession<WebStandardStreamableHTTPServerTransport>;
const encoder = new TextEncoder();

/**
 * POST/GET/DELETE /mcp: MCP Streamable HTTP (2025-11-25) with one SDK transport and
 * server per session, resumable GET streams backed by the SQLite message store.
 */
export class StreamableHttpEndpoint {
  constructor(
    private readonly ctx: FleetContext,
    private readonly parts: FleetPart[],
    private readonly sessions: SessionTable,
    private readonly store: McpMessageStore,
  ) {}

  private get slowClient(): SlowClientLimit {
    return { maxUnreadBytes: this.ctx.config.mcp.maxUnreadBytes, timeoutMs: this.ctx.config.mcp.slowClientTimeout };
  }

  /** GET streams cut off because their client stopped reading. */
  cutOffs = 0;

  /** Routes one /mcp request; `cutOff` ends the connection of a client that stopped reading. */
  async handle(req: Request, cutOff: () => void = () => {}): Promise<Response> {
    const sid = req.headers.get('mcp-session-id') ?? undefined;
    if (req.method === 'POST') return this.post(req, sid);
    if (sid === undefined) return rpcError(400, RPC.notInitialized, 'Bad Request: missing Mcp-Session-Id header; POST an initialize request first');
    const session = this.sessions.get(sid) as StreamableSession | undefined;
    if (!session || session.kind !== 'streamable') return notFound();
    session.touch();
    if (req.method === 'GET') {
      return this.get(req, session, () => {
        this.cutOffs++;
        cutOff();
      });
    }
    return session.transport.handleRequest(req);
  }

  private async post(req: Request, sid: string | undefined): Promise<Response> {
    const parsed = await readJsonRpcBody(req);
    if ('error' in parsed) return parsed.error;
    const invalid = invalidRequest(parsed.body);
    if (invalid) return invalid;
    const messages = Array.isArray(parsed.body) ? parsed.body : [parsed.body];
    if (sid !== undefined) {
      const session = this.sessions.get(sid) as StreamableSession | undefined;
      if (!session || session.kind !== 'streamable') return notFound();
      session.touch();
      return session.transport.handleRequest(req, { parsedBody: parsed.body });
    }
    if (!messages.some((m) => isInitializeRequest(m))) {
      return rpcError(400, RPC.notInitialized, 'Bad Request: no Mcp-Session-Id header and no initialize request; initialize a session first');
    }
    const resume = req.headers.get(RESUME_AFTER_HEADER);
    if (resume !== null && (!/^\d{1,15}$/.test(resume) || Number(resume) > this.ctx.log.lastId)) {
      return rpcError(400, RPC.invalidRequest, `${RESUME_AFTER_HEADER} "${resume.slice(0, 40)}" is not a fleet event id (newest is ${this.ctx.log.lastId})`);
    }
    const release = this.sessions.reserve();
    if (!release) return sessionsFull(this.sessions.maxSessions);
    try {
      return await this.initialize(req, parsed.body, resume === null ? undefined : Number(resume));
    } finally {
      release();
    }
  }

  /** Creates a session for an initialize request; it joins the table once the SDK accepts it. */
  private async initialize(req: Request, body: unknown, resumeAfter: number | undefined): Promise<Response> {
    const id = randomUUID();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: this.store.forSession(() => id),
      onsessioninitialized: () => this.sessions.add(session),
      onsessionclosed: () => void this.sessions.close(id),
      keepAliveMs: this.ctx.config.sse.keepAlive,
    });
    const session: StreamableSession = new McpSession(id, 'streamable', transport, this.ctx, this.parts, resumeAfter);
    await session.connect();
    const res = await transport.handleRequest(req, { parsedBody: body });
    if (!this.sessions.get(id)) await session.close(); // initialize was refused
    return res;
  }

  /**
   * Opens (or resumes) the session's standalone stream. A plain GET replaces an open one
   * instead of failing with 409; a resume is checked to name an event of this session.
   */
  private async get(req: Request, session: StreamableSession, cutOff: () => void): Promise<Response> {
    const lastEventId = req.headers.get('last-event-id');
    let priming: number | undefined;
    if (lastEventId !== null) {
      if (!/^\d{1,15}$/.test(lastEventId) || !this.store.canResume(session.id, Number(lastEventId))) {
        return rpcError(400, RPC.badLastEventId, `Last-Event-ID "${lastEventId.slice(0, 40)}" is not an event of this session; reconnect without it`);
      }
    } else if ((req.headers.get('accept') ?? '').includes('text/event-stream')) {
      // The SDK primes only POST streams: prime this one so a drop before the first
      // notification still leaves the client an id to resume from. The new stream is then
      // opened as a resume from that id: the SDK replaces any open stream (no 409) and
      // replays whatever was pushed while the two were being swapped, so nothing falls
      // between them.
      priming = await this.store.store(session.id, GET_STREAM, undefined);
      const headers = new Headers(req.headers);
      headers.set('last-event-id', String(priming));
      req = new Request(req.url, { method: 'GET', headers, signal: req.signal });
    }
    const res = await session.transport.handleRequest(req);
    if (!res.ok || !res.body) return res;
    session.pusher.start();
    const head = priming === undefined ? undefined : encoder.encode(`id: ${priming}\ndata: \n\n`);
    // Counts the session's open streams (idle expiry skips sessions with one).
    const hooks = {
      opened: () => session.openStreams++,
      closed: () => {
        session.openStreams--;
        session.touch();
      },
    };
    return new Response(boundedRelay(res.body, hooks, head, this.slowClient, cutOff), { status: res.status, headers: res.headers });
  }
}

function notFound(): Response {
  return rpcError(404, RPC.sessionNotFound, 'Session not found (expired, deleted, or fleetd restarted): initialize a new session');
}
