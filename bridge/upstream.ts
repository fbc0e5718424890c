import type { Endpoint } from '../shared/client.js';
import type { DaemonLocator } from './daemon-locator.js';
import { BridgeError, RPC } from './errors.js';
import { HttpFailure, sseMessages } from './http-client.js';
import { errorResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from './jsonrpc.js';
import type { Log } from './log.js';
import { deleteSession, newestEventId, openStream, parseMessages, postMessage, resumeAnswer, type Exchange } from './mcp-http.js';
import { SessionGate, type Session } from './session-gate.js';
import { Backoff } from '../shared/backoff.js';
import { RESUME_AFTER_HEADER } from '../shared/protocol.js';

/**
 * fleetd writes a keep-alive comment on an idle stream every 15 s (config sse.keepAlive);
 * four silent intervals mean the daemon hung or the path died: reconnect.
 */
const STREAM_IDLE_MS = 60_000;

/** What the relay supplies so the upstream can replace a lost session on its own. */
export interface UpstreamHooks {
  /** Every message fleetd sends toward the client, in arrival order. */
  deliver(message: JsonRpcMessage): void;
  /** fleetd's newest event id just before the first session began (undefined if it did not say). */
  firstSession(newestEventId: number | undefined): void;
  /** The fleet event id a replacement session resumes after. */
  resumeAfter(): number | undefined;
  /** Requests to repeat on a replacement session before its stream opens (logging/setLevel). */
  replayOnNewSession(): JsonRpcRequest[];
  /** A replacement session took over; requests the old one sent can no longer be answered. */
  sessionReplaced(generation: number): void;
}

/**
 * The fleetd side of the bridge: one MCP session at a time on /mcp, its GET stream held
 * open (Last-Event-ID resume, backoff with jitter), and transparent replacement of the
 * session when fleetd restarts (404): re-initialize with the client's own initialize
 * params and `fleet-resume-after`, so events published in the outage still arrive.
 * Requests wait for a usable session at most `waitTimeoutMs`.
 */
export class Upstream {
  private readonly gate: SessionGate;
  private endpoint: Endpoint | undefined;
  private initParams: Record<string, unknown> | undefined;
  private generation = 0;
  private streamEventId: string | undefined;
  private internalIds = 0;
  private supervising = false;
  /** Reconnect pauses: 100 ms doubling to 5 s, jittered so bridges that lost one daemon do not knock in lockstep. */
  private readonly reconnect = new Backoff({ initialMs: 100, maxMs: 5000, jitter: 0.5 });
  private readonly streamAbort = new AbortController();

  constructor(
    private readonly locator: DaemonLocator,
    private readonly hooks: UpstreamHooks,
    private readonly log: Log,
    private readonly waitTimeoutMs: number,
  ) {
    const hint = locator.notRunningMessage.replace(/^fleetd is not running on [^;]*; /, 'If it is not running, ');
    this.gate = new SessionGate(log, () => this.trouble(), hint);
  }

  /**
   * Opens the first session with the client's initialize request and returns fleetd's
   * answer (with the client's id). Throws BridgeError when no daemon can be reached.
   */
  async initialize(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    this.initParams = request.params;
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const ep = await this.locator.locate();
      try {
        const newest = await newestEventId(ep);
        this.hooks.firstSession(newest);
        if (newest === undefined) this.log.warn(`fleetd at ${ep.url} did not report its newest event id; after a restart, events from the outage may be missed until one arrives`);
        const ex = await postMessage(ep, {}, request, { onMessage: (m) => this.hooks.deliver(m) });
        const answer = ex.answer ?? errorResponse(request.id, ex.rejection?.code ?? RPC.daemonRejected, ex.rejection?.message ?? `fleetd gave no answer to initialize (HTTP ${ex.status})`);
        if (answer.result && ex.sessionId) {
          this.endpoint = ep;
          this.gate.adopt({ id: ex.sessionId, protocolVersion: protocolOf(answer), generation: ++this.generation, lost: false });
          this.log.debug(`session ${ex.sessionId} on ${ep.url}`);
        }
        return answer;
      } catch (e) {
        if (!(e instanceof HttpFailure) || Date.now() > deadline) throw asBridgeError(e, ep);
        // server.json names a live daemon that refuses connections: it is starting or stopping.
        this.gate.lastFailure = e.message;
        await this.reconnect.pause();
      }
    }
  }

  /**
   * Sends a client request and delivers its answer. Waits (bounded) while fleetd is away;
   * resends when the request surely never reached a session, or when `retryable` says a
   * second run is harmless; otherwise fails with `interrupted`.
   */
  async request(message: JsonRpcRequest, retryable: boolean, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.waitTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      // A daemon that keeps taking the stream but failing the request must not loop forever.
      if (attempt > 0 && Date.now() > deadline) throw new BridgeError('timeout', `fleetd kept failing ${message.method} for ${Math.round(this.waitTimeoutMs / 1000)} s: ${this.gate.lastFailure}`);
      const session = await this.gate.usable(deadline, this.waitTimeoutMs, signal);
      let ex: Exchange;
      try {
        ex = await postMessage(this.endpoint!, session, message, { onMessage: (m) => this.hooks.deliver(m), onAnswer: (m) => this.hooks.deliver(m) });
      } catch (e) {
        if (!(e instanceof HttpFailure)) throw e;
        this.gate.away(session, e.message);
        if (!e.delivered || retryable) continue;
        throw interrupted(message, e.message);
      }
      if (ex.answer) return;
      if (ex.status === 404) {
        this.gate.lost(session, 'fleetd no longer knows the session');
        continue; // it never reached a session, so sending it again is safe
      }
      if (ex.rejection) {
        this.hooks.deliver(errorResponse(message.id, ex.rejection.code, ex.rejection.message, ex.rejection.data));
        return;
      }
      if (ex.lastEventId !== undefined) {
        const answer = await resumeAnswer(this.endpoint!, session, ex.lastEventId, message.id, (m) => this.hooks.deliver(m));
        if (answer) return this.hooks.deliver(answer);
      }
      this.gate.away(session, ex.broken ?? 'no answer');
      if (retryable) continue;
      throw interrupted(message, ex.broken ?? 'no answer');
    }
  }

  /**
   * Sends a notification or a response to a server request. Dropped (false) when it
   * belongs to a session that is gone: a replacement session never asked for it.
   */
  async notify(message: JsonRpcNotification | JsonRpcResponse, generation?: number): Promise<boolean> {
    let session: Session;
    try {
      session = await this.gate.usable(Date.now() + this.waitTimeoutMs, this.waitTimeoutMs);
    } catch {
      return false; // a notification has no one to tell: it is dropped, as after a restart
    }
    if (generation !== undefined && generation !== session.generation) return false;
    try {
      const ex = await postMessage(this.endpoint!, session, message, { onMessage: (m) => this.hooks.deliver(m) });
      if (ex.status === 404) this.gate.lost(session, 'fleetd no longer knows the session');
      else if (ex.rejection) this.log.warn(`fleetd refused ${'method' in message ? message.method : 'a response'}: ${ex.rejection.message}`);
    } catch (e) {
      if (e instanceof HttpFailure) this.gate.away(session, e.message);
      return false;
    }
    if ('method' in message && message.method === 'notifications/initialized') this.supervise();
    return true;
  }

  /** The current session's generation (bumped by every replacement). */
  get currentGeneration(): number {
    return this.generation;
  }

  get initialized(): boolean {
    return this.gate.started;
  }

  /** Stops everything and ends the daemon session (DELETE /mcp), bounded. */
  async close(): Promise<void> {
    if (this.gate.closed) return;
    const session = this.gate.session;
    this.gate.close();
    this.streamAbort.abort();
    this.reconnect.wake();
    if (session && !session.lost && this.endpoint) {
      const status = await deleteSession(this.endpoint, session);
      this.log.debug(`ended session ${session.id} (DELETE answered ${status ?? 'nothing'})`);
    }
  }

  /** Holds the GET stream open for the life of the bridge; replaces lost sessions. */
  private supervise(): void {
    if (this.supervising) return;
    this.supervising = true;
    void this.superviseLoop().catch((e) => this.log.error(`stream supervisor failed: ${(e as Error).stack ?? e}`));
  }

  private async superviseLoop(): Promise<void> {
    while (!this.gate.closed) {
      const session = this.gate.session!;
      try {
        if (session.lost) {
          await this.replaceSession(session);
          this.reconnect.reset();
          continue;
        }
        this.endpoint = await this.locator.locate();
        const res = await openStream(this.endpoint, session, this.streamEventId, this.streamAbort.signal);
        if (res.status === 404 || (res.status === 400 && this.streamEventId !== undefined)) {
          res.body.resume();
          // 400: the daemon cannot resume from our id; a fresh session with the fleet cursor loses nothing.
          if (res.status === 400) void deleteSession(this.endpoint, session);
          this.gate.lost(session, res.status === 404 ? 'fleetd no longer knows the session' : 'fleetd cannot resume the stream');
          continue;
        }
        if (res.status !== 200) {
          res.body.resume();
          throw new Error(`GET /mcp answered HTTP ${res.status}`);
        }
        this.gate.open(session);
        const opened = Date.now();
        for await (const sse of sseMessages(res.body, STREAM_IDLE_MS)) {
          if (sse.id !== undefined) this.streamEventId = sse.id;
          if (sse.data) for (const m of parseMessages(sse.data)) this.hooks.deliver(m);
        }
        // A clean end (daemon stopping, stream replaced): reconnect, quickly unless it flaps.
        if (Date.now() - opened > 1000) this.reconnect.reset();
        this.gate.lastFailure = 'the event stream ended';
        this.log.debug('event stream ended; reconnecting');
      } catch (e) {
        if (this.gate.closed) return;
        const why = e instanceof Error ? e.message : String(e);
        if (!session.lost) this.gate.away(session, why);
        else this.gate.lastFailure = why;
        this.log.debug(`fleetd unavailable (${why}); retrying in about ${this.reconnect.nextDelayMs} ms`);
      }
      // A request waiting for the daemon caps the pause at a quarter second: a probe is one read
      // of server.json and one refused connect, while the request's wait is someone's time.
      await this.reconnect.pause(this.gate.waiting ? { capMs: 250 } : {});
    }
  }

  /** Re-initializes on the daemon now running and swaps the new session in. */
  private async replaceSession(old: Session): Promise<void> {
    const ep = await this.locator.locate();
    const after = this.hooks.resumeAfter();
    const init: JsonRpcRequest = { jsonrpc: '2.0', id: this.internalId(), method: 'initialize', params: this.initParams };
    let ex = await postMessage(ep, {}, init, { onMessage: () => undefined, headers: after === undefined ? undefined : { [RESUME_AFTER_HEADER]: String(after) } });
    if (!ex.answer && after !== undefined && ex.status === 400 && ex.rejection?.message.includes(RESUME_AFTER_HEADER)) {
      // The daemon's log is behind what we delivered (a reset or different FLEET_HOME): start at its newest.
      this.log.warn(`fleetd's event log ends before event ${after} that this bridge already delivered (was FLEET_HOME reset?); continuing from its newest event`);
      ex = await postMessage(ep, {}, init, { onMessage: () => undefined });
    }
    if (!ex.answer?.result || !ex.sessionId) {
      throw new BridgeError('rejected', `fleetd refused to re-initialize: ${ex.answer?.error?.message ?? ex.rejection?.message ?? `HTTP ${ex.status}`}`, RPC.daemonRejected);
    }
    const next: Session = { id: ex.sessionId, protocolVersion: protocolOf(ex.answer), generation: this.generation + 1, lost: false };
    await postMessage(ep, next, { jsonrpc: '2.0', method: 'notifications/initialized' }, { onMessage: () => undefined });
    for (const req of this.hooks.replayOnNewSession()) {
      await postMessage(ep, next, { ...req, id: this.internalId() }, { onMessage: () => undefined });
    }
    this.endpoint = ep;
    this.generation = next.generation;
    this.streamEventId = undefined;
    this.hooks.sessionReplaced(next.generation);
    this.gate.adopt(next);
    this.log.debug(`fleetd restarted: new session ${next.id} on ${ep.url}, replaying fleet events after ${after ?? 'its newest'} (replaced ${old.id})`);
  }

  /** Someone found fleetd unusable, or is waiting for it: probe now. */
  private trouble(): void {
    this.reconnect.wake();
    if (this.gate.session) this.supervise();
  }

  private internalId(): string {
    return `fleet-bridge:${++this.internalIds}`;
  }
}

function protocolOf(answer: JsonRpcResponse): string {
  const v = answer.result?.protocolVersion;
  return typeof v === 'string' ? v : '2025-11-25';
}

function interrupted(message: JsonRpcRequest, why: string): BridgeError {
  return new BridgeError(
    'interrupted',
    `fleetd went away while handling ${message.method} (${why}); it may or may not have taken effect. Check (e.g. list_events or fleet_status) before retrying.`,
    RPC.requestInterrupted,
  );
}

function asBridgeError(e: unknown, ep: Endpoint): BridgeError {
  if (e instanceof BridgeError) return e;
  return new BridgeError('unreachable', `fleetd is not reachable at ${ep.url} (${(e as Error).message})`);
}
