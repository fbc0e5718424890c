import type { FleetContext } from '../context.js';
import type { CommandOutcome } from '../members/runtime.js';
import type { MembersService } from '../members/service.js';
import { TailsTimeoutError } from '../members/tail-reader.js';
import { decodeRange } from './output-range.js';
import { parsePromptStream, RESULT_TAIL_BYTES } from './prompt.js';
import { rangeScript, tailScript, taskFile } from './scripts.js';
import { TERMINAL, type TaskRecord } from './store.js';

/** The last bytes of a task's stdout and stderr. */
export type Tails = { stdout: string; stderr: string };

/** A byte range of one stream, as monitor_task asks for it. */
export type OutputRange = { stream: 'stdout' | 'stderr'; offset: number; length: number };

/** Bytes of each stream read for an end event (the event keeps the last lines of them). */
const EVENT_TAIL_BYTES = 4096;
/** How long the end event waits for tails read by a `tail` on a pooled shell (when SFTP is not there). */
const FALLBACK_TAILS_MS = 5000;

/** Runs a short script on a member's pooled shell. */
export type MemberShell = (member: string, script: string, timeoutMs?: number) => Promise<CommandOutcome>;

/**
 * Reads what a task wrote on its member: the tails for its end event, a prompt's stream-json
 * result, and what monitor_task shows. Reading only; every state change stays with TasksService.
 */
export class TaskOutputReader {
  constructor(
    private readonly ctx: FleetContext,
    private readonly members: MembersService,
    private readonly root: string,
    private readonly tailBytes: number,
    private readonly sh: MemberShell,
  ) {}

  /**
   * A task's output tails for its end event: over the member's SFTP reader (no process
   * started there), else a tail script on a pooled shell, else none (undefined) rather than late.
   */
  async endTails(t: TaskRecord): Promise<Tails | undefined> {
    const rt = this.members.pool.get(t.member);
    // A prompt task's result is the last line of its stream, which may be long: read enough of it once.
    const bytes = t.kind === 'prompt' ? RESULT_TAIL_BYTES : EVENT_TAIL_BYTES;
    try {
      const [stdout, stderr] = await rt!.readTails([taskFile(this.root, t.id, 'out'), taskFile(this.root, t.id, 'err')], bytes);
      return { stdout: stdout ?? '', stderr: stderr ?? '' };
    } catch (e) {
      // Unanswered: a tail on a shell would hang the same way (and hold that shell).
      if (e instanceof TailsTimeoutError) return undefined;
      try {
        const r = await this.sh(t.member, tailScript(this.root, t.id, bytes), FALLBACK_TAILS_MS);
        return { stdout: r.stdout, stderr: r.stderr };
      } catch {
        return undefined;
      }
    }
  }

  /** A prompt task's end as its stream tells it: the result for the event and fleet.db (stream-json replaces the raw stdout tail). */
  promptEnd(code: number, tails: Tails): { event: { stdout: string; result: Record<string, unknown> }; result: Record<string, unknown>; reason: string | null } {
    const result = this.ctx.redactor.redactDeep({ ...parsePromptStream(tails.stdout, tails.stderr, code) }) as Record<string, unknown>;
    return { event: { stdout: '', result }, result, reason: typeof result.reason === 'string' ? result.reason : null };
  }

  /** monitor_task's output fields: the tails (and a running prompt's progress), or a byte range of one stream. */
  async read(t: TaskRecord, range?: OutputRange): Promise<Record<string, unknown>> {
    const view: Record<string, unknown> = {};
    try {
      if (range) {
        // Base64 takes 4/3 of the bytes, and a pooled command's output is capped at members.outputLimit.
        const req = { ...range, length: Math.max(1, Math.min(range.length, Math.floor(this.ctx.config.members.outputLimit * 0.7))) };
        const r = await this.sh(t.member, rangeScript(this.root, t.id, range.stream === 'stdout' ? 'out' : 'err', req.offset, req.length));
        if (r.exitCode !== 0) view.outputError = `task ${t.id}'s ${range.stream} file is not on ${t.member} (forgotten?)`;
        else view.output = decodeRange(r.stdout, req, TERMINAL.includes(t.state));
      } else {
        const r = await this.sh(t.member, tailScript(this.root, t.id, this.tailBytes));
        view.stdoutTail = r.stdout;
        view.stderrTail = r.stderr;
        // A running prompt task: its session id and how many stream messages the tail holds.
        if (t.kind === 'prompt' && !t.result) view.progress = parsePromptStream(r.stdout, '', null);
      }
    } catch (e) {
      view.outputError = (e as Error).message;
    }
    return view;
  }
}
