import type { DaemonClient } from '../../shared/client.js';

/** What GET /tasks/:id?stream=... answers (the parts tail uses). */
interface TaskRead {
  id: string;
  member: string;
  state: string;
  exitCode: number | null;
  reason?: string;
  reachable?: false;
  note?: string;
  outputError?: string;
  output?: { bytes: number; nextOffset: number; text: string };
}

export interface TailArgs {
  follow: boolean;
  stream: 'stdout' | 'stderr';
  /** Longest wait between two reads while following (events wake it sooner). */
  intervalMs?: number;
}

const TERMINAL = ['completed', 'failed', 'cancelled'];
/** Bytes asked for per read (fleetd may give less: see members.outputLimit). */
const CHUNK = 256 * 1024;

/** The exit code `tail -f` ends with: the task's own, else 1 for a task that failed without one or was cancelled. */
function exitCodeOf(t: TaskRead): number {
  if (t.state === 'completed') return 0;
  if (typeof t.exitCode === 'number' && t.exitCode > 0) return Math.min(255, t.exitCode);
  return 1;
}

/**
 * `fleetctl tasks tail ID [-f] [--stderr]`: prints one stream of a task from its start,
 * reading byte ranges from where the last read ended (so nothing is repeated or lost).
 * With follow it keeps reading until the task has ended and its output is drained, waking
 * on the task's events (SSE) or every `intervalMs`; returns the exit code to end with.
 */
export async function tailTask(client: DaemonClient, id: string, args: TailArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const interval = args.intervalMs ?? 500;
  let offset = 0;
  let wake: (() => void) | undefined;
  const ac = new AbortController();
  let away = false;
  if (args.follow) {
    // Events only shorten the wait: every read sees the task's state anyway, so a missed or late event costs one interval.
    void client
      .follow({ topics: ['task.*'], signal: ac.signal, onEvent: (e) => e.subject === id && wake?.() })
      .catch(() => undefined);
  }
  try {
    for (;;) {
      const { task } = await client.request<{ task: TaskRead }>('GET', `/tasks/${encodeURIComponent(id)}?stream=${args.stream}&offset=${offset}&length=${CHUNK}`);
      const ended = TERMINAL.includes(task.state);
      if (task.reachable === false) {
        if (!args.follow) throw new Error(`${task.note ?? `member ${task.member} is unreachable`}; add -f to wait for it`);
        if (!away) err.write(`fleetctl: ${task.note ?? `member ${task.member} is unreachable`}; waiting...\n`);
        away = true;
      } else if (task.outputError !== undefined) {
        // A member that just dropped may answer so once before it shows as unreachable; a finished task's must be read now.
        if (!args.follow || ended) throw new Error(`cannot read task ${id}'s ${args.stream}: ${task.outputError}`);
      } else if (task.output) {
        away = false;
        if (task.output.text) out.write(task.output.text);
        offset = task.output.nextOffset;
        if (task.output.bytes > 0) continue; // more may be there already: read on before waiting
        if (!args.follow) return 0;
        if (ended) {
          if (task.state !== 'completed') err.write(`fleetctl: task ${id} ${task.state}${task.exitCode !== null ? ` with exit code ${task.exitCode}` : ''}${task.reason ? ` (${task.reason})` : ''}\n`);
          return exitCodeOf(task);
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    ac.abort();
  }
}
