import type { FleetEvent } from '../../../shared/events.js';
import type { TaskRecord } from '../../tasks/store.js';
import { taskView } from '../../tasks/views.js';
import { ok } from '../../tools/result.js';

/**
 * The shapes of the MCP Tasks extension (io.modelcontextprotocol/tasks, ext-tasks
 * specification/draft/tasks.md, SEP-2663) that fleet serves over 2026-07-28, built from
 * fleet's own task records: the extension's task is a view of a fleet background task.
 */

/** The extension's identifier, as declared in capabilities `extensions`. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** The per-request client capabilities key in `params._meta`. */
export const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
/** JSON-RPC error: the request needs a client capability it did not declare. */
export const MISSING_CAPABILITY = -32021;

export type ExtStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** The extension's Task, with its status-specific payload (DetailedTask). */
export interface DetailedTask {
  taskId: string;
  status: ExtStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** Whether a request's params declare the tasks extension in their per-request client capabilities. */
export function declaresTasks(params: unknown): boolean {
  const meta = (params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const caps = meta?.[CLIENT_CAPABILITIES_KEY] as { extensions?: Record<string, unknown> } | undefined;
  const ext = caps?.extensions?.[TASKS_EXTENSION];
  return typeof ext === 'object' && ext !== null && !Array.isArray(ext);
}

/** The -32021 error naming the extension, for a request that needs it and did not declare it. */
export function missingCapabilityError(): { code: number; message: string; data: unknown } {
  return { code: MISSING_CAPABILITY, message: 'Missing required client capability', data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } };
}

/** How long fleet keeps a task: while it runs, unlimited; once ended, its run plus tasks.retention. */
function ttl(t: TaskRecord, retentionMs: number): number | null {
  return t.endedAt === null ? null : t.endedAt - t.startedAt + retentionMs;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** A one-line status message, from fleet's state. */
function message(t: TaskRecord): string {
  switch (t.state) {
    case 'starting':
      return `starting on ${t.member}`;
    case 'running':
      return t.stalled ? `running on ${t.member}, stalled: no new output for ${seconds(Date.now() - t.progressAt)}` : `running on ${t.member}`;
    case 'completed':
      return `completed on ${t.member} (exit 0) in ${seconds((t.endedAt ?? t.startedAt) - t.startedAt)}`;
    case 'failed':
      return t.exitCode === null ? `failed on ${t.member}: ${t.reason ?? 'lost'}` : `failed on ${t.member} with exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
    case 'cancelled':
      return `cancelled on ${t.member}: ${t.reason ?? 'stopped'}`;
  }
}

/**
 * The tool result a finished task inlines: what monitor_task would say, with the output
 * tails (and a prompt's result) its end event carries. A task that failed (non-zero exit,
 * lost, the agent's error) is a tool result with isError: the extension's `failed` status
 * is for JSON-RPC errors only, which a started fleet task never has.
 */
export function endResult(t: TaskRecord, end: FleetEvent | undefined): Record<string, unknown> {
  const view = taskView(t);
  const d = (end?.data ?? {}) as Record<string, unknown>;
  const tails = end ? { stdoutTail: d.stdoutTail ?? '', stderrTail: d.stderrTail ?? '' } : { note: 'the end event is no longer in the event log: read the output with monitor_task' };
  const data: Record<string, unknown> = { task: view, exitCode: t.exitCode, ...(t.kind === 'command' ? tails : {}), ...(d.tailsUnread ? { tailsUnread: true } : {}) };
  const r = ok(`Task ${t.id} ${message(t)}.`, data) as unknown as Record<string, unknown>;
  return t.state === 'completed' ? r : { ...r, isError: true };
}

/**
 * A fleet task as the extension's DetailedTask: starting/running → working,
 * completed/failed → completed with the tool result inlined, cancelled → cancelled.
 * `end` is its task.completed/task.failed event (for the output tails).
 */
export function detailedTask(t: TaskRecord, opts: { retentionMs: number; pollMs: number; end?: FleetEvent }): DetailedTask {
  const terminal = t.state === 'completed' || t.state === 'failed' || t.state === 'cancelled';
  const base: DetailedTask = {
    taskId: t.id,
    status: t.state === 'cancelled' ? 'cancelled' : terminal ? 'completed' : 'working',
    statusMessage: message(t),
    createdAt: new Date(t.startedAt).toISOString(),
    lastUpdatedAt: new Date(t.endedAt ?? t.startedAt).toISOString(),
    ttlMs: ttl(t, opts.retentionMs),
    pollIntervalMs: opts.pollMs,
  };
  if (t.state === 'completed' || t.state === 'failed') base.result = endResult(t, opts.end);
  return base;
}
