import { channelNotification, declareChannel, type ChannelEvent } from './channel.js';
import type { DaemonLocator } from './daemon-locator.js';
import { BridgeError, RPC } from './errors.js';
import { errorResponse, idKey, type Classified, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from './jsonrpc.js';
import type { Log } from './log.js';
import { ModernUpstream, modernVersionOf } from './modern-upstream.js';
import { ResumeCursor } from './resume-cursor.js';
import { RetryPolicy } from './retry-policy.js';
import { Upstream, type UpstreamHooks } from './upstream.js';

export interface RelayOptions {
  /** Also emit every fleet event as a Claude Code channel notification. */
  channel: boolean;
  /** How long a request waits for fleetd to come back. */
  waitTimeoutMs: number;
}

/** Where the relay writes toward the client (stdout). */
export interface ClientSink {
  send(message: JsonRpcMessage): void;
}

interface PendingRequest {
  method: string;
  /** The tool, for tools/call. */
  tool?: string;
  /** Aborts the wait for a session (the client cancelled); a posted request is cancelled by fleetd. */
  abort: AbortController;
}

type ClientMessage = Exclude<Classified, { kind: 'invalid' }>;

/**
 * Routes JSON-RPC between the stdio client and fleetd: the client's requests and
 * notifications up, fleetd's answers, requests and notifications down. Keeps the books a
 * relay needs to survive a daemon restart: which client requests are open, which server
 * requests belong to which session, and the last fleet event delivered, so a replacement
 * session resumes after it and nothing is delivered twice.
 */
export class Relay {
  private readonly upstream: Upstream;
  /** MCP 2026-07-28: requests carrying its `_meta` go up statelessly, beside the 2025 session. */
  private readonly modern: ModernUpstream;
  private readonly retry = new RetryPolicy();
  private readonly pending = new Map<string, PendingRequest>();
  /** Server-to-client requests awaiting the client's answer, by id, with their session generation. */
  private readonly serverRequests = new Map<string, { id: string | number; generation: number }>();
  private readonly cursor = new ResumeCursor();
  private setLevelParams: Record<string, unknown> | undefined;
  /** Set while the client's initialize is in flight: messages behind it wait their turn. */
  private initializing: Promise<void> | undefined;

  constructor(
    private readonly client: ClientSink,
    locator: DaemonLocator,
    private readonly log: Log,
    private readonly opts: RelayOptions,
  ) {
    const hooks: UpstreamHooks = {
      deliver: (m) => this.fromDaemon(m),
      firstSession: (newest) => this.cursor.setFloor(newest),
      resumeAfter: () => this.cursor.resumeAfter(),
      replayOnNewSession: () => (this.setLevelParams ? [{ jsonrpc: '2.0', id: 0, method: 'logging/setLevel', params: this.setLevelParams }] : []),
      sessionReplaced: (generation) => this.cancelStaleServerRequests(generation),
    };
    this.upstream = new Upstream(locator, hooks, log, opts.waitTimeoutMs);
    this.modern = new ModernUpstream(locator, log, opts.waitTimeoutMs, (m) => this.fromDaemon(m));
  }

  /** Handles one well-formed message from the client. */
  fromClient(c: ClientMessage): void {
    // A client that pipelines (initialize, initialized, a call) without awaiting the answer
    // gets them handled in order once the session exists.
    if (this.initializing) {
      void this.initializing.then(() => this.fromClient(c));
      return;
    }
    if (c.kind === 'request') this.clientRequest(c.message);
    else if (c.kind === 'notification') this.clientNotification(c.message);
    else this.clientResponse(c.message);
  }

  /** Requests still waiting for an answer. */
  get openRequests(): number {
    return this.pending.size;
  }

  /** Ends the daemon session (DELETE /mcp), bounded. */
  close(): Promise<void> {
    this.modern.close();
    return this.upstream.close();
  }

  private clientRequest(req: JsonRpcRequest): void {
    if (req.method === 'initialize') return this.initialize(req);
    const modern = !this.upstream.initialized && modernVersionOf(req) !== undefined;
    if (modern && this.opts.channel) {
      // Channels exist only in a 2025-11-25 session: refusing the probe (server/discover)
      // makes a dual-era client (Claude Code, SDK v2 'auto') fall back to initialize.
      return this.client.send(errorResponse(req.id, RPC.notInitialized, `${req.method}: fleet-bridge --channel serves MCP 2025-11-25 only (channel messages need a session); send initialize`));
    }
    if (!this.upstream.initialized && !modern) {
      // ping is allowed before initialize (MCP lifecycle); nothing else is.
      if (req.method === 'ping') return this.client.send({ jsonrpc: '2.0', id: req.id, result: {} });
      return this.client.send(errorResponse(req.id, RPC.notInitialized, `${req.method} before initialize: send initialize first`));
    }
    if (req.method === 'logging/setLevel') this.setLevelParams = req.params;
    const key = idKey(req.id);
    if (this.pending.has(key)) return this.client.send(errorResponse(req.id, RPC.invalidRequest, `Invalid Request: id ${JSON.stringify(req.id)} is already in use by an open request`));
    const tool = req.method === 'tools/call' && typeof req.params?.name === 'string' ? req.params.name : undefined;
    const entry: PendingRequest = { method: req.method, tool, abort: new AbortController() };
    this.pending.set(key, entry);
    (modern ? this.modern.request(req, this.retry.retryable(req), entry.abort.signal) : this.upstream.request(req, this.retry.retryable(req), entry.abort.signal))
      .catch((e: unknown) => {
        if (e instanceof BridgeError && e.code === 'cancelled') return;
        const err = e instanceof BridgeError ? e : new BridgeError('rejected', `internal error: ${(e as Error).message}`, RPC.internalError);
        this.log.error(`${req.method} failed: ${err.message}`);
        this.client.send(errorResponse(req.id, err.rpcCode, err.message));
      })
      .finally(() => {
        if (this.pending.get(key) === entry) this.pending.delete(key);
      });
  }

  private initialize(req: JsonRpcRequest): void {
    if (this.upstream.initialized) {
      return this.client.send(errorResponse(req.id, RPC.invalidRequest, 'Invalid Request: this session is already initialized'));
    }
    this.initializing = this.upstream
      .initialize(req)
      .then((answer) => {
        if (answer.result && this.opts.channel) answer = { ...answer, result: declareChannel(answer.result) };
        this.client.send(answer);
      })
      .catch((e: unknown) => {
        const err = e instanceof BridgeError ? e : new BridgeError('unreachable', (e as Error).message);
        this.log.error(err.message);
        this.client.send(errorResponse(req.id, err.rpcCode, err.message));
      })
      .finally(() => (this.initializing = undefined));
  }

  private clientNotification(n: JsonRpcNotification): void {
    if (!this.upstream.initialized) {
      if (modernVersionOf(n) === undefined || this.opts.channel) return this.log.debug(`ignored ${n.method} before initialize`);
      // 2026-07-28: cancelling a listen ends its stream here; anything else goes up on its own.
      const id = n.params?.requestId;
      if (n.method === 'notifications/cancelled' && (typeof id === 'string' || typeof id === 'number')) this.pending.get(idKey(id))?.abort.abort();
      return void this.modern.notify(n);
    }
    if (n.method === 'notifications/cancelled') {
      const id = n.params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.pending.get(idKey(id))?.abort.abort();
    }
    void this.upstream.notify(n).then((sent) => {
      if (!sent) this.log.debug(`dropped ${n.method}: fleetd was away`);
    });
  }

  private clientResponse(r: JsonRpcResponse): void {
    if (r.id === null) return this.log.warn(`client sent an error without an id: ${r.error?.message ?? ''}`);
    const key = idKey(r.id);
    const asked = this.serverRequests.get(key);
    this.serverRequests.delete(key);
    // An answer to a request of a session that is gone would reach a daemon that never asked.
    void this.upstream.notify(r, asked?.generation).then((sent) => {
      if (!sent) this.log.debug(`dropped the answer to server request ${JSON.stringify(r.id)}: its session is gone`);
    });
  }

  private fromDaemon(m: JsonRpcMessage): void {
    if (!('method' in m)) {
      if (m.id === null) return this.log.warn(`fleetd sent an error without an id: ${m.error?.message ?? ''}`);
      const entry = this.pending.get(idKey(m.id));
      if (!entry) return this.log.debug(`dropped an answer to ${JSON.stringify(m.id)}: no such open request`);
      this.pending.delete(idKey(m.id));
      if (entry.method === 'tools/list') this.retry.learnTools(m.result);
      if (entry.tool === 'wait_for_events' && m.result) this.cursor.noteWaitAnswer(m.result.structuredContent);
      return this.client.send(m);
    }
    if ('id' in m) {
      this.serverRequests.set(idKey(m.id), { id: m.id, generation: this.upstream.currentGeneration });
      return this.client.send(m);
    }
    const event = fleetEventOf(m);
    if (event) {
      // Replays after a restart may overlap what was delivered: ids only ever go up.
      if (!this.cursor.acceptPushed(event.id)) return this.log.debug(`dropped fleet event ${event.id}: already delivered`);
      this.client.send(m);
      if (this.opts.channel) this.client.send(channelNotification(event));
      return;
    }
    this.client.send(m);
  }

  /** Tells the client that server requests of a replaced session will never need an answer. */
  private cancelStaleServerRequests(generation: number): void {
    for (const [key, asked] of this.serverRequests) {
      if (asked.generation >= generation) continue;
      this.serverRequests.delete(key);
      this.client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: asked.id, reason: 'fleetd restarted; the request is void' } });
    }
  }
}

/** The fleet event inside a `notifications/message` from logger "fleet", if it is one. */
function fleetEventOf(n: JsonRpcNotification): ChannelEvent | undefined {
  if (n.method !== 'notifications/message' || n.params?.logger !== 'fleet') return undefined;
  const data = n.params.data as ChannelEvent | undefined;
  return typeof data?.id === 'number' && typeof data.message === 'string' ? data : undefined;
}
