import type { ServerEventBus } from '@modelcontextprotocol/server';
import type { FleetEvent } from '../../../shared/events.js';
import { SseParser } from '../../../shared/sse-parser.js';
import type { FleetContext } from '../../context.js';
import { FleetError } from '../../errors.js';
import { TASK_ID } from '../../tasks/scripts.js';
import type { TasksService } from '../../tasks/service.js';
import type { TaskRecord } from '../../tasks/store.js';
import { serveTaskListen } from './task-listen.js';
import { declaresTasks, detailedTask, missingCapabilityError, type DetailedTask } from './task-shapes.js';

/** A JSON-RPC request as it arrived (only what routing needs). */
interface Rpc {
  jsonrpc?: string;
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
}

const INVALID_PARAMS = -32602;
/** The SDK's code for headers that disagree with the body. */
const HEADER_MISMATCH = -32020;
const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const MODERN = '2026-07-28';
const INTERNAL_ERROR = -32603;

function rpcError(id: Rpc['id'], error: { code: number; message: string; data?: unknown }, status = 200): Response {
  return Response.json({ jsonrpc: '2.0', id: id ?? null, error }, { status });
}

function rpcResult(id: Rpc['id'], result: Record<string, unknown>): Response {
  return Response.json({ jsonrpc: '2.0', id, result });
}

/** The Task of a CreateTaskResult: the seed state, without a status payload. */
function taskOnly(t: DetailedTask): Omit<DetailedTask, 'result' | 'error'> {
  const { result: _r, error: _e, ...task } = t;
  return task;
}

/**
 * The MCP Tasks extension (io.modelcontextprotocol/tasks) over fleet's background tasks,
 * served in front of the SDK (2.4.0 has no support: its McpServer rejects a task result
 * and its listen router drops taskIds). Only requests that declare the extension in their
 * per-request client capabilities get any of it; every other request passes through.
 */
export class TaskExtension {
  /** Task-scoped listen streams open now (each entry ends one gracefully). */
  readonly open = new Set<() => void>();

  constructor(
    private readonly ctx: FleetContext,
    private readonly tasks: TasksService,
    private readonly bus: ServerEventBus,
    private readonly serverInfo: Record<string, unknown>,
  ) {}

  /** A fleet task as the extension's DetailedTask, or undefined if there is none by that id. */
  detailed(taskId: string, end?: FleetEvent): DetailedTask | undefined {
    if (!TASK_ID.test(taskId)) return undefined;
    const t = this.tasks.store.get(taskId);
    if (!t) return undefined;
    const ended = t.state === 'completed' || t.state === 'failed';
    return detailedTask(t, { retentionMs: this.tasks.settings.retentionMs, pollMs: this.tasks.settings.pollMs, ...(ended ? { end: end ?? this.endEvent(t) } : {}) });
  }

  /** The task.completed / task.failed event that ended a task (its output tails), if the log still has it. */
  private endEvent(t: TaskRecord): FleetEvent | undefined {
    // Its events come after its start (fleetd's clock): no need to scan the log before it.
    const from = this.ctx.log.cursorAtTime(t.startedAt - 1000);
    return this.ctx.log.read(from, { subject: t.id, globs: ['task.completed', 'task.failed'], limit: 1 })[0];
  }

  /**
   * Serves a request that is the extension's (tasks/get, tasks/update, tasks/cancel, a
   * listen with taskIds, a task-eligible tools/call from a declaring client); undefined
   * for any other, which the SDK serves as before. `forward` hands a request to the SDK.
   */
  async handle(req: Request, body: Record<string, unknown>, forward: (req: Request) => Promise<Response>, listenRefused: () => Response | undefined): Promise<Response | undefined> {
    const msg = body as Rpc;
    if (typeof msg.params !== 'object' || msg.params === null) return undefined;
    // Another revision: the SDK answers it (unsupported version).
    if ((msg.params._meta as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_KEY] !== MODERN) return undefined;
    const method = msg.method;
    if (method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel') {
      if (!declaresTasks(msg.params)) return rpcError(msg.id, missingCapabilityError(), 400);
      // Streamable HTTP binding: Mcp-Name carries the task id (intermediaries route on it), and must agree with the body.
      const name = req.headers.get('mcp-name');
      if (name !== null && name !== msg.params.taskId) return rpcError(msg.id, { code: HEADER_MISMATCH, message: 'Bad Request: the request headers and body disagree: Mcp-Name is not params.taskId' }, 400);
      return this.taskMethod(method, msg);
    }
    if (method === 'subscriptions/listen') {
      const filter = msg.params?.notifications as { taskIds?: unknown; resourceSubscriptions?: unknown } | undefined;
      if (filter?.taskIds === undefined) return undefined;
      if (!declaresTasks(msg.params)) return rpcError(msg.id, missingCapabilityError(), 400);
      if (!Array.isArray(filter.taskIds) || msg.id === undefined) return rpcError(msg.id, { code: INVALID_PARAMS, message: 'Invalid params: notifications.taskIds must be an array of task ids' });
      const refused = listenRefused();
      if (refused) return refused;
      const deps = { ctx: this.ctx, bus: this.bus, serverInfo: this.serverInfo, detailed: (id: string, end?: FleetEvent) => this.detailed(id, end), open: this.open };
      return serveTaskListen(msg.id, { taskIds: filter.taskIds as string[], resourceSubscriptions: filter.resourceSubscriptions }, req.signal, deps);
    }
    if (method === 'tools/call' && declaresTasks(msg.params) && this.eligible(msg.params)) return this.asTask(msg, await forward(req));
    return undefined;
  }

  /** Calls that start a fleet task: execute_prompt, and execute_command with background: true. */
  private eligible(params: Record<string, unknown> | undefined): boolean {
    const args = params?.arguments as Record<string, unknown> | undefined;
    return params?.name === 'execute_prompt' || (params?.name === 'execute_command' && args?.background === true);
  }

  private async taskMethod(method: string, msg: Rpc): Promise<Response> {
    const taskId = msg.params?.taskId;
    const now = typeof taskId === 'string' ? this.detailed(taskId) : undefined;
    if (!now) return rpcError(msg.id, { code: INVALID_PARAMS, message: 'Failed to retrieve task: Task not found' });
    if (method === 'tasks/get') return rpcResult(msg.id, { resultType: 'complete', ...now });
    // tasks/update: a fleet task never asks for input, so there is nothing outstanding to answer.
    if (method === 'tasks/update') return rpcResult(msg.id, { resultType: 'complete' });
    try {
      await this.tasks.stop(now.taskId);
    } catch (e) {
      // Ending on its own right now: it reaches a terminal state anyway, which the extension allows after a cancel.
      if (!(e instanceof FleetError && e.code === 'task_running')) return rpcError(msg.id, { code: INTERNAL_ERROR, message: `Failed to cancel task: ${(e as Error).message}` });
    }
    return rpcResult(msg.id, { resultType: 'complete' });
  }

  /**
   * The SDK's answer to a task-eligible call, turned into a CreateTaskResult when it started
   * exactly one task (the task is in fleet.db and its task.started committed by then, so
   * tasks/get resolves at once). Anything else (an error, several members) stays as it is.
   */
  private async asTask(msg: Rpc, res: Response): Promise<Response> {
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !(type.startsWith('application/json') || type.startsWith('text/event-stream'))) return res;
    const text = await res.text();
    // A call answered over SSE (keep-alives while it started): its response is the frame with the request's id.
    const messages: unknown[] = type.startsWith('application/json') ? [JSON.parse(text)] : parseSse(text);
    const reply = messages.find((m): m is { id: unknown; result?: Record<string, unknown> } => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === msg.id);
    const taskId = reply?.result ? startedTask(reply.result) : undefined;
    const task = taskId ? this.detailed(taskId) : undefined;
    if (!reply || !task) return reply ? Response.json(reply) : new Response(text, { status: res.status, headers: res.headers });
    return rpcResult(msg.id, { resultType: 'task', ...taskOnly(task) });
  }

  /** Ends every task-scoped listen stream with its graceful completion. */
  close(): void {
    for (const end of [...this.open]) end();
  }
}

/** The id of the one task a tool result started, if it started exactly one. */
function startedTask(result: Record<string, unknown>): string | undefined {
  if (result.isError) return undefined;
  const s = result.structuredContent as { task?: { id?: unknown }; results?: { ok?: boolean; id?: unknown }[] } | undefined;
  if (typeof s?.task?.id === 'string') return s.task.id;
  const one = s?.results?.length === 1 ? s.results[0] : undefined;
  return one?.ok && typeof one.id === 'string' ? one.id : undefined;
}

/** The JSON-RPC messages of an SSE body. */
function parseSse(text: string): unknown[] {
  const out: unknown[] = [];
  for (const m of new SseParser().push(text.endsWith('\n\n') ? text : `${text}\n\n`)) {
    try {
      if (m.data) out.push(JSON.parse(m.data));
    } catch {
      // not a message
    }
  }
  return out;
}
