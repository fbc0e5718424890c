import type { CommandModule } from 'yargs';
import type { DaemonClient } from '../../shared/client.js';
import { tailTask } from './task-tail.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

interface TaskRow {
  id: string;
  member: string;
  state: string;
  exitCode: number | null;
  startedAt: string;
  durationMs: number;
  command: string;
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `fleetctl tasks list|show|tail|stop`: background tasks over GET/POST /tasks. */
export function tasksCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'tasks <command>',
    describe: 'background tasks on members: list them, show one, tail (follow) its output, stop one',
    builder: (y) =>
      y
        .command(
          'list',
          'tasks, newest first',
          (c) => c.option('member', { type: 'string' }).option('state', { choices: ['starting', 'running', 'completed', 'failed', 'cancelled'] }).option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const q = new URLSearchParams();
              if (argv.member) q.set('member', argv.member);
              if (argv.state) q.set('state', argv.state);
              const { tasks } = await clientOf(argv).request<{ tasks: TaskRow[] }>('GET', `/tasks${q.size ? `?${q}` : ''}`);
              if (argv.json) return out(JSON.stringify(tasks));
              if (tasks.length === 0) return out('no tasks');
              const rows = tasks.map((t) => [t.id, t.member, t.state, t.exitCode === null ? '-' : String(t.exitCode), `${(t.durationMs / 1000).toFixed(1)}s`, t.command.slice(0, 60)]);
              out(table([['ID', 'MEMBER', 'STATE', 'EXIT', 'TIME', 'COMMAND'], ...rows]));
            }),
        )
        .command(
          'show <id>',
          'one task: state, exit code, and the tail of its output',
          (c) => c.positional('id', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const { task } = await clientOf(argv).request<{ task: Record<string, unknown> }>('GET', `/tasks/${encodeURIComponent(argv.id)}`);
              if (argv.json) return out(JSON.stringify(task));
              const { stdoutTail, stderrTail, ...rest } = task;
              for (const [k, v] of Object.entries(rest)) out(`${`${k}:`.padEnd(12)} ${v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
              if (stdoutTail) out(`--- stdout (tail) ---\n${String(stdoutTail).replace(/\n$/, '')}`);
              if (stderrTail) out(`--- stderr (tail) ---\n${String(stderrTail).replace(/\n$/, '')}`);
            }),
        )
        .command(
          'stop <id>',
          'stop a running task (its whole process group: SIGTERM, then SIGKILL)',
          (c) => c.positional('id', { type: 'string', demandOption: true }),
          (argv) =>
            run(async () => {
              const { task } = await clientOf(argv).request<{ task: TaskRow }>('POST', `/tasks/${encodeURIComponent(argv.id)}/stop`);
              out(`task ${task.id}: ${task.state}`);
            }),
        )
        .command(
          'tail <id>',
          "print a task's output from its start; with -f keep printing it as it comes until the task ends, then exit with the task's exit code (1 if it was lost or cancelled)",
          (c) =>
            c
              .positional('id', { type: 'string', demandOption: true })
              .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'follow the output until the task ends, like tail -f' })
              .option('stderr', { type: 'boolean', default: false, describe: 'the task\'s stderr instead of its stdout' })
              .example('$0 tasks tail t-0123456789abcdef -f', 'watch a build to its end; exits with its code'),
          (argv) =>
            run(async () => {
              process.exitCode = await tailTask(clientOf(argv), argv.id, { follow: argv.follow, stream: argv.stderr ? 'stderr' : 'stdout' });
            }),
        )
        .demandCommand(1, 'name a tasks command: list, show, tail or stop'),
    handler: () => undefined,
  };
}
