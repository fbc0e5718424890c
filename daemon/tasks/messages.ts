import type { NewEvent } from '../../shared/events.js';
import type { TaskRecord } from './store.js';

/** At most this much of each stream's tail goes into an event (the rest: monitor_task). */
const EVENT_TAIL_CHARS = 2000;
const EVENT_TAIL_LINES = 20;

/** The last lines of a stream, capped, for an event. */
export function lastLines(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n').slice(-EVENT_TAIL_LINES).join('\n');
  return lines.length > EVENT_TAIL_CHARS ? `…${lines.slice(-EVENT_TAIL_CHARS)}` : lines;
}

/** A command for a one-line message. */
function short(command: string): string {
  const one = command.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;

function base(t: TaskRecord, topic: string, level: NewEvent['level'], message: string, data: Record<string, unknown>): NewEvent {
  return { topic, level, subject: t.id, message, data: { task: t.id, member: t.member, kind: t.kind, command: short(t.command), ...data }, ...(t.session ? { session: t.session } : {}) };
}

export function startedEvent(t: TaskRecord, pid: number | null): NewEvent {
  return base(t, 'task.started', 'info', `▶ task ${t.id} started on ${t.member}: ${short(t.command)}`, { ...(pid ? { pid } : {}) });
}

/** task.completed (exit 0) or task.failed (any other code), with duration and output tails. */
export function endedEvent(t: TaskRecord, f: { exitCode: number; durationMs: number; stdout: string; stderr: string; result?: Record<string, unknown> | null }): NewEvent {
  const tails = { stdoutTail: lastLines(f.stdout), stderrTail: lastLines(f.stderr) };
  // A prompt task's result may name why it ended (e.g. "timeout: ..."): said at the top too.
  const reason = typeof f.result?.reason === 'string' ? f.result.reason : undefined;
  const data = { exitCode: f.exitCode, durationMs: f.durationMs, ...tails, ...(f.result ? { result: f.result } : {}), ...(reason ? { reason } : {}) };
  if (f.exitCode === 0) return base(t, 'task.completed', 'info', `✓ task ${t.id} on ${t.member} completed in ${seconds(f.durationMs)}: ${short(t.command)}`, data);
  return base(t, 'task.failed', 'warning', `✗ task ${t.id} on ${t.member} failed with exit code ${f.exitCode}${reason ? ` (${reason})` : ''} after ${seconds(f.durationMs)}: ${short(t.command)}`, data);
}

/** task.failed for a process that is gone without telling how it ended. */
export function lostEvent(t: TaskRecord, reason: string, durationMs: number): NewEvent {
  return base(t, 'task.failed', 'error', `✗ task ${t.id} on ${t.member} was lost: ${reason}`, { exitCode: null, reason: 'lost', detail: reason, durationMs });
}

export function cancelledEvent(t: TaskRecord, durationMs: number): NewEvent {
  return base(t, 'task.cancelled', 'notice', `■ task ${t.id} on ${t.member} stopped by stop_task after ${seconds(durationMs)}`, { durationMs });
}

export function stalledEvent(t: TaskRecord, quietMs: number): NewEvent {
  return base(t, 'task.stalled', 'warning', `⏸ task ${t.id} on ${t.member} has written nothing for ${seconds(quietMs)}`, { quietMs, stallAfterMs: t.stallAfterMs });
}

export function resumedEvent(t: TaskRecord, quietMs: number): NewEvent {
  return base(t, 'task.resumed', 'info', `▶ task ${t.id} on ${t.member} is writing output again after ${seconds(quietMs)}`, { quietMs });
}
