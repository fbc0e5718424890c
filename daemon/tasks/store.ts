import type Database from 'better-sqlite3';

export type TaskState = 'starting' | 'running' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL: readonly TaskState[] = ['completed', 'failed', 'cancelled'];

/** One task as fleet.db keeps it. */
export interface TaskRecord {
  id: string;
  member: string;
  kind: 'command' | 'prompt';
  command: string;
  session: string | null;
  state: TaskState;
  pid: number | null;
  procStart: string | null;
  exitCode: number | null;
  reason: string | null;
  startedAt: number;
  endedAt: number | null;
  stallAfterMs: number;
  stalled: boolean;
  outBytes: number;
  progressAt: number;
  result: Record<string, unknown> | null;
}

interface Row {
  id: string;
  member: string;
  kind: string;
  command: string;
  session: string | null;
  state: string;
  pid: number | null;
  proc_start: string | null;
  exit_code: number | null;
  reason: string | null;
  started_at: number;
  ended_at: number | null;
  stall_after_ms: number;
  stalled: number;
  out_bytes: number;
  progress_at: number;
  result: string | null;
}

function toRecord(r: Row): TaskRecord {
  return {
    id: r.id,
    member: r.member,
    kind: r.kind as TaskRecord['kind'],
    command: r.command,
    session: r.session,
    state: r.state as TaskState,
    pid: r.pid,
    procStart: r.proc_start,
    exitCode: r.exit_code,
    reason: r.reason,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    stallAfterMs: r.stall_after_ms,
    stalled: r.stalled === 1,
    outBytes: r.out_bytes,
    progressAt: r.progress_at,
    result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null,
  };
}

/**
 * The tasks table. Every state change is a compare-and-set on the state it leaves, run in
 * the event log's transaction (EventLog.appendWith): it returns false when another path
 * got there first, and then its event is not written. That is what makes each event once.
 */
export class TaskStore {
  constructor(private readonly db: Database.Database) {}

  get(id: string): TaskRecord | undefined {
    const r = this.db.prepare('SELECT * FROM tasks WHERE id = ? AND forgotten = 0').get(id) as Row | undefined;
    return r && toRecord(r);
  }

  list(filter: { member?: string; state?: string; limit?: number } = {}): TaskRecord[] {
    const where = ['forgotten = 0'];
    const args: unknown[] = [];
    if (filter.member) {
      where.push('member = ?');
      args.push(filter.member);
    }
    if (filter.state) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const rows = this.db.prepare(`SELECT * FROM tasks WHERE ${where.join(' AND ')} ORDER BY started_at DESC LIMIT ?`).all(...args, filter.limit ?? 500) as Row[];
    return rows.map(toRecord);
  }

  /** Tasks not yet ended (starting or running), all members. */
  live(): TaskRecord[] {
    return (this.db.prepare("SELECT * FROM tasks WHERE state IN ('starting', 'running')").all() as Row[]).map(toRecord);
  }

  /** A task about to start on its member (no event yet: it may fail to start). */
  insertStarting(t: Pick<TaskRecord, 'id' | 'member' | 'kind' | 'command' | 'session' | 'startedAt' | 'stallAfterMs'>): void {
    this.db
      .prepare("INSERT INTO tasks (id, member, kind, command, session, state, started_at, stall_after_ms, progress_at) VALUES (?, ?, ?, ?, ?, 'starting', ?, ?, ?)")
      .run(t.id, t.member, t.kind, t.command, t.session, t.startedAt, t.stallAfterMs, t.startedAt);
  }

  /** Drops a task that never started (its start failed before anything ran). */
  deleteStarting(id: string): void {
    this.db.prepare("DELETE FROM tasks WHERE id = ? AND state = 'starting'").run(id);
  }

  /** starting → running, in the task.started transaction. */
  markRunning(db: Database.Database, id: string, pid: number | null, procStart: string | null): boolean {
    return db.prepare("UPDATE tasks SET state = 'running', pid = ?, proc_start = ? WHERE id = ? AND state = 'starting'").run(pid, procStart, id).changes === 1;
  }

  /** running (or starting) → a terminal state, in its event's transaction. */
  markEnded(db: Database.Database, id: string, state: TaskState, f: { exitCode: number | null; reason: string | null; endedAt: number; result?: Record<string, unknown> | null }): boolean {
    return (
      db
        .prepare("UPDATE tasks SET state = ?, exit_code = ?, reason = ?, ended_at = ?, result = ? WHERE id = ? AND state IN ('starting', 'running')")
        .run(state, f.exitCode, f.reason, f.endedAt, f.result ? JSON.stringify(f.result) : null, id).changes === 1
    );
  }

  /** New output seen: remember how much and when. */
  noteProgress(id: string, bytes: number, at: number): void {
    this.db.prepare('UPDATE tasks SET out_bytes = ?, progress_at = ? WHERE id = ?').run(bytes, at, id);
  }

  /** Stalled flag flip, in the task.stalled / task.resumed transaction. */
  markStalled(db: Database.Database, id: string, stalled: boolean): boolean {
    return db.prepare("UPDATE tasks SET stalled = ? WHERE id = ? AND stalled = ? AND state = 'running'").run(stalled ? 1 : 0, id, stalled ? 0 : 1).changes === 1;
  }

  forget(id: string): void {
    this.db.prepare('UPDATE tasks SET forgotten = 1 WHERE id = ?').run(id);
  }

  /** Ended tasks older than `beforeMs` whose folders are still on their members. */
  expired(beforeMs: number): TaskRecord[] {
    return (this.db.prepare("SELECT * FROM tasks WHERE forgotten = 0 AND state IN ('completed', 'failed', 'cancelled') AND ended_at < ? LIMIT 100").all(beforeMs) as Row[]).map(toRecord);
  }
}
