import { randomBytes } from 'node:crypto';
import type { NewEvent } from '../../shared/events.js';
import type { FleetContext } from '../context.js';
import { FleetError } from '../errors.js';
import type { CommandSpec } from '../members/framing.js';
import type { CommandOutcome } from '../members/runtime.js';
import type { MembersService } from '../members/service.js';
import { cancelledEvent, endedEvent, lostEvent, resumedEvent, stalledEvent, startedEvent } from './messages.js';
import { TaskOutputReader, type OutputRange, type Tails } from './output-reader.js';
import { forgetScript, pollScript, startScript, stopScript, TASK_ID } from './scripts.js';
import { TaskStore, TERMINAL, type TaskRecord } from './store.js';
import { taskView, type TaskView } from './views.js';
import { MemberWatcher } from './watcher.js';

/** config.tasks in the units the code uses. */
export interface TaskSettings {
  root: string;
  pollMs: number;
  stallAfterMs: number;
  tailBytes: number;
  stopGraceMs: number;
  retentionMs: number;
}

const TIMING = process.env.FLEET_TASK_TIMING === '1';

export interface StartInput extends CommandSpec {
  member: string;
  stall_after_s?: number;
}

/**
 * Background tasks: started detached on a member, their state in fleet.db, their end told
 * by the member's watcher (polled for when the watcher is down, and after a restart).
 * Every state change commits with its event in one transaction, guarded by the state it
 * leaves, so each event is written once whichever path (watcher, poll, stop) gets there.
 */
export class TasksService {
  readonly store: TaskStore;
  private readonly output: TaskOutputReader;
  private readonly watchers = new Map<string, MemberWatcher>();
  /** Tasks whose start is in flight: an exit heard now waits for task.started. */
  private readonly starting = new Map<string, { code: number; atMs: number; tails?: Tails } | null>();
  /** Tasks being ended or stopped right now (one path at a time). */
  private readonly busy = new Set<string>();
  private readonly polling = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly firstTick: NodeJS.Immediate;
  private stopped = false;

  constructor(
    private readonly ctx: FleetContext,
    private readonly members: MembersService,
    readonly settings: TaskSettings,
  ) {
    this.store = new TaskStore(ctx.db);
    this.output = new TaskOutputReader(ctx, members, settings.root, settings.tailBytes, (m, script, ms) => this.sh(m, script, ms));
    this.unsubscribe = ctx.log.onCommit((e) => {
      if (e.topic === 'member.online' && e.subject) this.memberOnline(e.subject);
    });
    this.timer = setInterval(() => this.tick(), settings.pollMs);
    this.timer.unref();
    this.firstTick = setImmediate(() => this.tick());
  }

  private key(member: string): string {
    return member.toLowerCase();
  }

  /** Runs a short script on a member's pooled shell. */
  private sh(member: string, script: string, timeoutMs = 30_000): Promise<CommandOutcome> {
    const rt = this.members.pool.get(member);
    if (!rt) throw this.members.registry.unknown(member);
    return rt.run({ command: script }, { timeoutMs });
  }

  private online(member: string): boolean {
    return this.members.pool.get(member)?.state().state === 'online';
  }

  private memberOnline(member: string): void {
    this.watcherFor(member);
    void this.pollMember(member);
  }

  /** The member's watcher, opened if the member is online. */
  private watcherFor(member: string): MemberWatcher {
    let w = this.watchers.get(this.key(member));
    if (!w) {
      w = new MemberWatcher(member, this.settings.root, {
        onExit: (m, id, code) => void this.finish(m, id, code, Date.now(), undefined, performance.now()),
        onReady: (m) => {
          if (this.store.live().some((t) => this.key(t.member) === this.key(m))) this.warmTails(m);
          void this.pollMember(m);
        },
      });
      this.watchers.set(this.key(member), w);
    }
    const rt = this.members.pool.get(member);
    if (rt && this.online(member)) w.ensure(rt);
    return w;
  }

  /**
   * Opens the member's tail reader (an SFTP session) ahead of its tasks' ends, so the first
   * end does not pay for it: that open took 25-160 ms under load, the bench's p99. Only where
   * tasks run: it holds one of the connection's channels.
   */
  private warmTails(member: string): void {
    void this.members.pool.get(member)?.readTails([], 0).catch(() => undefined);
  }

  /** Periodic: watchers for online members, a poll where tasks run (lost processes, stalls), retention. */
  private tick(): void {
    if (this.stopped) return; // a tick queued before stop must not touch a closed fleet.db
    for (const name of this.members.registry.names()) if (this.online(name)) this.watcherFor(name);
    const withTasks = new Set(this.store.live().map((t) => t.member));
    for (const m of withTasks) if (this.online(m)) void this.pollMember(m);
    void this.cleanup();
  }

  /**
   * Starts a command detached on a member; resolves once it runs there and task.started is committed.
   * `expand` fills `{{secure.NAME}}` in what goes to the member only: the command stored in fleet.db
   * and shown in views and events keeps the placeholders.
   */
  async start(input: StartInput, session: string | undefined, opts: { kind?: TaskRecord['kind']; stdin?: string; label?: string; expand?: (text: string) => string } = {}): Promise<TaskView> {
    const record = this.members.registry.get(input.member);
    this.watcherFor(record.name);
    const id = `t-${randomBytes(8).toString('hex')}`;
    const now = Date.now();
    const stallAfterMs = input.stall_after_s !== undefined ? Math.round(input.stall_after_s * 1000) : this.settings.stallAfterMs;
    this.store.insertStarting({ id, member: record.name, kind: opts.kind ?? 'command', command: opts.label ?? input.command, session: session ?? null, startedAt: now, stallAfterMs });
    this.starting.set(id, null);
    const fill = opts.expand ?? ((t: string) => t);
    let out: CommandOutcome;
    try {
      // Inside the try: a {{secure.NAME}} that cannot be filled must not leave the row "starting" for ever.
      const spec: CommandSpec = {
        command: fill(input.command),
        ...(input.cwd ? { cwd: input.cwd } : {}),
        ...(input.env ? { env: Object.fromEntries(Object.entries(input.env).map(([k, v]) => [k, fill(v)])) } : {}),
      };
      out = await this.sh(record.name, startScript(this.settings.root, id, spec, opts.stdin));
      if (out.exitCode !== 0) throw new FleetError('task_start_failed', `could not start the task on ${record.name}: setup exited ${out.exitCode}: ${out.stderr.trim().slice(0, 300)}`, 502);
    } catch (e) {
      this.starting.delete(id);
      this.store.deleteStarting(id);
      throw e;
    }
    this.warmTails(record.name);
    const [pid, procStart] = out.stdout.trim().split(/\s+/);
    const t = this.store.get(id)!;
    await this.ctx.log.appendWith(startedEvent(t, Number(pid) || null), (db) => this.store.markRunning(db, id, Number(pid) || null, procStart ?? null));
    const early = this.starting.get(id);
    this.starting.delete(id);
    if (early) void this.finish(record.name, id, early.code, early.atMs, early.tails);
    return taskView(this.store.get(id)!);
  }

  /** Commits a state change with its event; false when another path changed the state first. */
  private async transition(event: NewEvent, write: Parameters<FleetContext['log']['appendWith']>[1]): Promise<boolean> {
    return (await this.ctx.log.appendWith(event, write)) !== undefined;
  }

  /** A task's process exited with `code`: task.completed or task.failed, once. */
  async finish(member: string, id: string, code: number, endedAtMs: number, told?: Tails, heardAt?: number): Promise<void> {
    if (this.starting.has(id)) {
      this.starting.set(id, { code, atMs: endedAtMs, ...(told ? { tails: told } : {}) });
      return;
    }
    if (this.busy.has(id)) return;
    const t = this.store.get(id);
    if (!t || this.key(t.member) !== this.key(member) || TERMINAL.includes(t.state)) return;
    this.busy.add(id);
    try {
      if (t.state === 'starting') await this.transition(startedEvent(t, null), (db) => this.store.markRunning(db, id, null, null));
      const tails = told ?? (await this.output.endTails(t));
      const tailsAt = performance.now();
      const endedAt = Math.max(t.startedAt, endedAtMs);
      const durationMs = endedAt - t.startedAt;
      const state = code === 0 ? 'completed' : 'failed';
      const prompt = t.kind === 'prompt' ? this.output.promptEnd(code, tails ?? { stdout: '', stderr: '' }) : undefined;
      const event = endedEvent(t, { exitCode: code, durationMs, stdout: tails?.stdout ?? '', stderr: tails?.stderr ?? '', ...prompt?.event });
      // The end is not held back for output the member does not give: an agent reads it with monitor_task.
      if (!tails) event.data = { ...event.data, tailsUnread: true };
      await this.transition(event, (db) => this.store.markEnded(db, id, state, { exitCode: code, reason: prompt?.reason ?? null, endedAt, result: prompt?.result ?? null }));
      // FLEET_TASK_TIMING=1 (benches): where fleetd's share of exit → event goes, per task.
      // "heard" is the epoch ms the exit line arrived, so a bench can split exit → heard (member) from the rest.
      if (TIMING && heardAt !== undefined) console.error(`fleetd task-timing ${id} heard ${(performance.timeOrigin + heardAt).toFixed(1)} tails ${(tailsAt - heardAt).toFixed(1)} commit ${(performance.now() - tailsAt).toFixed(1)}`);
    } finally {
      this.busy.delete(id);
    }
  }

  /** The process is gone without an exit status: task.failed "lost", once. */
  private async lose(t: TaskRecord, detail: string): Promise<void> {
    if (this.busy.has(t.id) || this.starting.has(t.id)) return;
    this.busy.add(t.id);
    try {
      const endedAt = Date.now();
      await this.transition(lostEvent(t, detail, endedAt - t.startedAt), (db) => this.store.markEnded(db, t.id, 'failed', { exitCode: null, reason: `lost: ${detail}`, endedAt }));
    } finally {
      this.busy.delete(t.id);
    }
  }

  /** Checks every live task of a member in one command: exits missed, processes lost, output progress. */
  async pollMember(member: string): Promise<void> {
    const k = this.key(member);
    if (this.polling.has(k)) return;
    const tasks = this.store.live().filter((t) => this.key(t.member) === k && !this.starting.has(t.id));
    if (tasks.length === 0) return;
    this.polling.add(k);
    let out: CommandOutcome;
    try {
      out = await this.sh(member, pollScript(this.settings.root, tasks.map((t) => t.id)));
    } catch {
      return; // unreachable: the next poll or the member's return tries again
    } finally {
      this.polling.delete(k);
    }
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const files = new Map<string, { bytes: number; mtimeMs: number }>();
    for (const line of out.stdout.split('\n')) {
      const stat = /^(t-[0-9a-f]{16})\/(out|err|exit) (\d+) (\d+)$/.exec(line.trim());
      if (stat) {
        files.set(`${stat[1]}/${stat[2]}`, { bytes: Number(stat[3]), mtimeMs: Number(stat[4]) * 1000 });
        continue;
      }
      const [id, what, code] = line.trim().split(' ');
      const t = id ? byId.get(id) : undefined;
      if (!t) continue;
      const bytes = (files.get(`${id}/out`)?.bytes ?? 0) + (files.get(`${id}/err`)?.bytes ?? 0);
      if (what === 'exit') void this.finish(member, t.id, Number(code), files.get(`${id}/exit`)?.mtimeMs ?? Date.now());
      else if (what === 'running') await this.progress(t, bytes);
      else if (what === 'gone') void this.lose(t, 'its process is gone and left no exit status (killed, or the member rebooted)');
      else if (what === 'missing') void this.lose(t, 'its folder on the member is gone');
    }
  }

  /** Stall detector: no new output for stall_after → task.stalled; output again → task.resumed. */
  private async progress(t: TaskRecord, bytes: number): Promise<void> {
    const now = Date.now();
    if (t.state === 'starting') await this.transition(startedEvent(t, t.pid), (db) => this.store.markRunning(db, t.id, t.pid, t.procStart));
    if (bytes > t.outBytes) {
      this.store.noteProgress(t.id, bytes, now);
      if (t.stalled) await this.transition(resumedEvent(t, now - t.progressAt), (db) => this.store.markStalled(db, t.id, false));
    } else if (!t.stalled && t.stallAfterMs > 0 && now - t.progressAt >= t.stallAfterMs) {
      await this.transition(stalledEvent(t, now - t.progressAt), (db) => this.store.markStalled(db, t.id, true));
    }
  }

  /** The task or a clear error. */
  get(id: string): TaskRecord {
    if (!TASK_ID.test(id)) throw new FleetError('bad_task', `"${id.slice(0, 40)}" is not a task id: they look like t-0123456789abcdef (see list_tasks)`);
    const t = this.store.get(id);
    if (!t) throw new FleetError('unknown_task', `no task ${id} (finished tasks are forgotten after the retention period; see list_tasks)`, 404);
    return t;
  }

  /** monitor_task: state, reachability, and the output tail (or a byte range of one stream). */
  async monitor(id: string, range?: OutputRange): Promise<Record<string, unknown>> {
    const t = this.get(id);
    const view: Record<string, unknown> = { ...taskView(t) };
    const rt = this.members.pool.get(t.member);
    const state = rt?.state();
    if (!TERMINAL.includes(t.state) && state?.state !== 'online') {
      // Not "running": nobody can tell while the member is away (it may have ended, or been lost).
      view.state = 'unreachable';
      view.lastKnownState = t.state;
      view.reachable = false;
      view.unreachableSince = state?.since ?? null;
      view.note = `member ${t.member} is unreachable${state?.since ? ` since ${state.since}` : ''}: the task's state is not known until it returns`;
      return view;
    }
    Object.assign(view, await this.output.read(t, range));
    // Output read from the member may carry a secret the task was given.
    return this.ctx.redactor.redactDeep(view);
  }

  list(filter: { member?: string; state?: string }): TaskView[] {
    return this.store.list(filter).map(taskView);
  }

  /** stop_task: SIGTERM then SIGKILL to the task's whole process group, confirmed, then task.cancelled. */
  async stop(id: string): Promise<TaskView> {
    const t = this.get(id);
    if (TERMINAL.includes(t.state)) return taskView(t);
    if (this.busy.has(id) || this.starting.has(id)) throw new FleetError('task_running', `task ${id} is starting or ending right now; ask again in a moment`, 409);
    this.busy.add(id);
    let outcome = '';
    try {
      const graceS = this.settings.stopGraceMs / 1000;
      const r = await this.sh(t.member, stopScript(this.settings.root, id, graceS), this.settings.stopGraceMs + 15_000);
      outcome = r.stdout.trim();
      if (outcome === 'alive') throw new FleetError('task_stop_failed', `task ${id} on ${t.member}: processes of its group survived SIGKILL`, 502);
      if (outcome === 'stopped') {
        const endedAt = Date.now();
        await this.transition(cancelledEvent(t, endedAt - t.startedAt), (db) => this.store.markEnded(db, id, 'cancelled', { exitCode: null, reason: 'stopped by stop_task', endedAt }));
      }
    } finally {
      this.busy.delete(id);
    }
    if (outcome === 'gone') await this.pollMember(t.member); // it ended on its own: report that
    return taskView(this.store.get(id)!);
  }

  /** forget_task: removes a finished task's folder on its member and its row from listings. */
  async forget(id: string): Promise<{ forgotten: string }> {
    const t = this.get(id);
    if (!TERMINAL.includes(t.state)) throw new FleetError('task_running', `task ${id} is ${t.state}: stop it first (stop_task), then forget it`, 409);
    const r = await this.sh(t.member, forgetScript(this.settings.root, id));
    if (r.exitCode !== 0) throw new FleetError('member_error', `could not remove task ${id}'s folder on ${t.member}: ${r.stderr.trim().slice(0, 200)}`, 502);
    this.store.forget(id);
    return { forgotten: id };
  }

  /** Retention: finished tasks' folders removed once they are old enough (never a running one). */
  private async cleanup(): Promise<void> {
    for (const t of this.store.expired(Date.now() - this.settings.retentionMs)) {
      if (this.online(t.member)) await this.forget(t.id).catch(() => undefined);
    }
  }

  summary(): Record<string, unknown> {
    const live = this.store.live();
    return { running: live.length, watchers: [...this.watchers.values()].filter((w) => w.up).length };
  }

  stop_(): void {
    this.stopped = true;
    clearImmediate(this.firstTick);
    clearInterval(this.timer);
    this.unsubscribe();
    for (const w of this.watchers.values()) w.stop();
  }
}
