import { SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY, type ServerEventBus } from '@modelcontextprotocol/server';
import type { FleetEvent } from '../../../shared/events.js';
import type { FleetContext } from '../../context.js';
import type { DetailedTask } from './task-shapes.js';

/** What a task-scoped listen stream needs from the extension. */
export interface TaskListenDeps {
  ctx: FleetContext;
  bus: ServerEventBus;
  serverInfo: Record<string, unknown>;
  /** The task's DetailedTask now, or undefined if fleet has no such task. `end` is the event that ended it, when known. */
  detailed(taskId: string, end?: FleetEvent): DetailedTask | undefined;
  /** Open task-scoped streams: each entry ends its stream gracefully. */
  open: Set<() => void>;
}

/** At most this many task ids per stream (each is a map lookup per task event). */
const MAX_TASK_IDS = 1000;

/**
 * A subscriptions/listen stream whose filter names taskIds (the SDK's listen router knows
 * only the core filter fields and would drop them): the acknowledgement honors the ids of
 * tasks fleet has, the stream opens with each one's current state (so a task that ended
 * before the stream opened is not missed), then carries notifications/tasks on each of
 * their task.* events, and notifications/resources/updated for the resources it names, as
 * the SDK's streams do.
 */
export function serveTaskListen(id: string | number, filter: { taskIds: string[]; resourceSubscriptions?: unknown }, signal: AbortSignal | undefined, deps: TaskListenDeps): Response {
  const tasks = new Map<string, DetailedTask>();
  for (const taskId of filter.taskIds.slice(0, MAX_TASK_IDS)) {
    const now = typeof taskId === 'string' ? deps.detailed(taskId) : undefined;
    if (now) tasks.set(taskId, now);
  }
  const uris = Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [];
  const honored = { taskIds: [...tasks.keys()], ...(uris.length ? { resourceSubscriptions: uris } : {}) };
  const stamp = (params: Record<string, unknown>) => ({ ...params, _meta: { ...(params._meta as object | undefined), [SUBSCRIPTION_ID_META_KEY]: id } });
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const offs: (() => void)[] = [];

  const frame = (text: string) => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      // the reader is gone: cancel() tears down
    }
  };
  const notify = (method: string, params: Record<string, unknown>) => frame(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method, params: stamp(params) })}\n\n`);
  const teardown = (graceful: boolean) => {
    if (closed) return;
    if (graceful) frame(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID_META_KEY]: id, [SERVER_INFO_META_KEY]: deps.serverInfo } } })}\n\n`);
    closed = true;
    offs.splice(0).forEach((off) => off());
    deps.open.delete(end);
    try {
      controller.close();
    } catch {
      // already closed by the reader
    }
  };
  const end = () => teardown(true);

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      notify('notifications/subscriptions/acknowledged', { notifications: honored });
      if (tasks.size === 0 && uris.length === 0) return teardown(true);
      // Subscribed before the snapshot is written, both in this turn: no commit falls between them.
      offs.push(
        deps.ctx.log.onCommit((e) => {
          if (!e.topic.startsWith('task.') || e.subject === undefined || !tasks.has(e.subject)) return;
          const now = deps.detailed(e.subject, e.topic === 'task.completed' || e.topic === 'task.failed' ? e : undefined);
          if (now) notify('notifications/tasks', { ...now });
        }),
      );
      if (uris.length)
        offs.push(
          deps.bus.subscribe((e) => {
            if (e.kind === 'resource_updated' && uris.includes(e.uri)) notify('notifications/resources/updated', { ...e.params, uri: e.uri });
          }),
        );
      for (const t of tasks.values()) notify('notifications/tasks', { ...t });
      const keepAlive = setInterval(() => frame(': keepalive\n\n'), deps.ctx.config.sse.keepAlive);
      keepAlive.unref();
      offs.push(() => clearInterval(keepAlive));
      deps.open.add(end);
    },
    cancel() {
      teardown(false);
    },
  });
  if (signal?.aborted) teardown(false);
  else if (signal) {
    const onAbort = () => teardown(false);
    signal.addEventListener('abort', onAbort, { once: true });
    offs.push(() => signal.removeEventListener('abort', onAbort));
  }
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' } });
}
