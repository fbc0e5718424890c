import type { Endpoint } from '../shared/client.js';
import { Backoff } from '../shared/backoff.js';
import type { DaemonLocator } from './daemon-locator.js';
import { BridgeError, RPC } from './errors.js';
import { HttpFailure } from './http-client.js';
import { errorResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from './jsonrpc.js';
import type { Log } from './log.js';
import { postMessage, type Exchange } from './mcp-http.js';

const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const SUBSCRIPTION_KEY = 'io.modelcontextprotocol/subscriptionId';

/** The 2026-07-28 (or later) protocol version a message declares in its `_meta`, if any. */
export function modernVersionOf(m: { params?: Record<string, unknown> }): string | undefined {
  const v = (m.params?._meta as Record<string, unknown> | undefined)?.[VERSION_KEY];
  return typeof v === 'string' ? v : undefined;
}

/** The request metadata headers 2026-07-28 wants mirrored from the body (spec: Streamable HTTP, request metadata). */
function metadataHeaders(m: JsonRpcRequest | JsonRpcNotification): Record<string, string> {
  const h: Record<string, string> = { 'mcp-protocol-version': modernVersionOf(m) ?? '', 'mcp-method': m.method };
  // Tasks extension: tasks/* name their task.
  const name = m.method.startsWith('tasks/') ? m.params?.taskId : (m.params?.name ?? m.params?.uri);
  if (typeof name === 'string' && (['tools/call', 'resources/read', 'prompts/get'].includes(m.method) || m.method.startsWith('tasks/'))) {
    const plain = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(name) && !name.startsWith('=?base64?');
    h['mcp-name'] = plain ? name : `=?base64?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  }
  return h;
}

/**
 * The fleetd side of the bridge for MCP 2026-07-28: every request is posted on its own,
 * with no session, so a fleetd restart needs no re-initialize; a subscriptions/listen
 * stream is held open and issued again whenever it drops.
 */
export class ModernUpstream {
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 2000, jitter: 0.5 });
  private readonly stop = new AbortController();

  constructor(
    private readonly locator: DaemonLocator,
    private readonly log: Log,
    private readonly waitTimeoutMs: number,
    private readonly deliver: (m: JsonRpcMessage) => void,
  ) {}

  /** Sends one request and delivers its answer; waits (bounded) while fleetd is away. */
  async request(req: JsonRpcRequest, retryable: boolean, signal: AbortSignal): Promise<void> {
    if (req.method === 'subscriptions/listen') return this.listen(req, signal);
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const ep = await this.endpoint(deadline, signal);
      let ex: Exchange;
      try {
        ex = await postMessage(ep, {}, req, { onMessage: this.deliver, onAnswer: this.deliver, headers: metadataHeaders(req), signal });
      } catch (e) {
        if (!(e instanceof HttpFailure)) throw e;
        if (signal.aborted) throw new BridgeError('cancelled', 'cancelled');
        if ((e.delivered && !retryable) || Date.now() > deadline) throw interrupted(req, e.message);
        await this.backoff.pause({ capMs: 250, signal });
        continue;
      }
      this.backoff.reset();
      if (ex.answer) return;
      if (ex.rejection) return this.deliver(errorResponse(req.id, ex.rejection.code, ex.rejection.message, ex.rejection.data));
      if (!retryable || Date.now() > deadline) throw interrupted(req, ex.broken ?? 'no answer');
    }
  }

  /** Posts a notification on its own; dropped when fleetd is away (as in the 2025 era). */
  async notify(n: JsonRpcNotification): Promise<void> {
    try {
      const ep = await this.locator.locate();
      await postMessage(ep, {}, n, { onMessage: this.deliver, headers: metadataHeaders(n) });
    } catch (e) {
      this.log.debug(`dropped ${n.method}: ${(e as Error).message}`);
    }
  }

  /** Ends every listen stream (the bridge is closing). */
  close(): void {
    this.stop.abort();
  }

  /**
   * Holds a listen stream until the client cancels it. When it drops (fleetd restarted or
   * stopped), it is issued again once fleetd is back; instead of a second acknowledgment
   * the client is told that each subscribed resource changed, so it reads from its own
   * cursor and gets what was published meanwhile. A stream naming taskIds (tasks extension)
   * opens with each task's state: a state the client already has is not passed on again, so
   * it learns each task's end exactly once, also when the task ended while fleetd was away.
   */
  private async listen(req: JsonRpcRequest, clientSignal: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([clientSignal, this.stop.signal]);
    const deadline = Date.now() + this.waitTimeoutMs;
    let honored: string[] | undefined;
    /** The first stream honored nothing: fleetd ends it at once, and listening again would do the same. */
    let nothing = false;
    const tasks = new TaskStates();
    while (!signal.aborted) {
      let ex: Exchange | undefined;
      try {
        // The first stream must come within the wait; a re-issued one waits as long as the client listens.
        const ep = await this.endpoint(honored ? Infinity : deadline, signal);
        const again = honored !== undefined;
        ex = await postMessage(ep, {}, req, {
          headers: metadataHeaders(req),
          signal,
          onMessage: (m) => {
            if ('method' in m && m.method === 'notifications/tasks') return tasks.isNew(m.params) ? this.deliver(m) : undefined;
            if (!('method' in m) || m.method !== 'notifications/subscriptions/acknowledged') return this.deliver(m);
            if (!again) {
              const n = m.params?.notifications as { resourceSubscriptions?: unknown; taskIds?: unknown } | undefined;
              honored = Array.isArray(n?.resourceSubscriptions) ? n.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [];
              nothing = !Object.values(n ?? {}).some((v) => (Array.isArray(v) ? v.length > 0 : Boolean(v)));
              return this.deliver(m);
            }
            this.backoff.reset();
            for (const uri of honored ?? []) this.deliver({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: { [SUBSCRIPTION_KEY]: req.id } } });
          },
        });
      } catch (e) {
        if (signal.aborted) break;
        if (!(e instanceof HttpFailure) && !(e instanceof BridgeError && e.code === 'timeout' && honored)) throw e;
      }
      if (signal.aborted) break;
      if (ex?.rejection && honored === undefined) return this.deliver(errorResponse(req.id, ex.rejection.code, ex.rejection.message, ex.rejection.data));
      if (ex?.answer?.error && honored === undefined) return this.deliver(ex.answer);
      if (ex?.answer && nothing) return this.deliver(ex.answer);
      // A graceful end (fleetd stopping) or a drop: the client still listens, so listen again.
      this.log.debug(`listen stream ${JSON.stringify(req.id)} ended (${ex?.broken ?? (ex?.answer ? 'fleetd ended it' : 'fleetd away')}); listening again`);
      await this.backoff.pause({ capMs: 1000, signal });
    }
    throw new BridgeError('cancelled', 'cancelled');
  }

  /** Where fleetd is, waiting for it (bounded by `deadline`) while it is not running. */
  private async endpoint(deadline: number, signal: AbortSignal): Promise<Endpoint> {
    for (;;) {
      try {
        return await this.locator.locate();
      } catch (e) {
        if (!(e instanceof BridgeError) || e.code !== 'not_running' || Date.now() > deadline) throw e;
      }
      if (signal.aborted) throw new BridgeError('cancelled', 'cancelled');
      await this.backoff.pause({ capMs: 250, signal });
    }
  }
}

/** The task states a listen stream has passed to the client, to pass each on once. */
class TaskStates {
  private readonly seen = new Map<string, string>();
  private readonly ended = new Set<string>();

  /** Whether a notifications/tasks carries news: a task not yet ended, in a state not yet told. */
  isNew(params: Record<string, unknown> | undefined): boolean {
    const id = params?.taskId;
    if (typeof id !== 'string') return true;
    if (this.ended.has(id)) return false;
    const state = JSON.stringify([params?.status, params?.lastUpdatedAt, params?.statusMessage]);
    if (this.seen.get(id) === state) return false;
    this.seen.set(id, state);
    if (params?.status === 'completed' || params?.status === 'failed' || params?.status === 'cancelled') this.ended.add(id);
    return true;
  }
}

function interrupted(message: JsonRpcRequest, why: string): BridgeError {
  return new BridgeError(
    'interrupted',
    `fleetd went away while handling ${message.method} (${why}); it may or may not have taken effect. Check (e.g. list_events or fleet_status) before retrying.`,
    RPC.requestInterrupted,
  );
}
