import type { TaskRecord } from './store.js';

/** A task as tools, routes and fleetctl show it. */
export interface TaskView {
  id: string;
  member: string;
  kind: TaskRecord['kind'];
  command: string;
  state: TaskRecord['state'];
  exitCode: number | null;
  reason?: string;
  startedAt: string;
  endedAt?: string;
  durationMs: number;
  stalled?: boolean;
  result?: Record<string, unknown>;
}

export function taskView(t: TaskRecord): TaskView {
  return {
    id: t.id,
    member: t.member,
    kind: t.kind,
    command: t.command,
    state: t.state,
    exitCode: t.exitCode,
    ...(t.reason ? { reason: t.reason } : {}),
    startedAt: new Date(t.startedAt).toISOString(),
    ...(t.endedAt ? { endedAt: new Date(t.endedAt).toISOString() } : {}),
    durationMs: (t.endedAt ?? Date.now()) - t.startedAt,
    // Only a running task can be stalled; one that ended while quiet is just ended.
    ...(t.stalled && t.state === 'running' ? { stalled: true } : {}),
    ...(t.result ? { result: t.result } : {}),
  };
}
