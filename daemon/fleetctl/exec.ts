import type { CommandModule } from 'yargs';
import { UsageError } from '../../shared/cli-usage.js';
import { ClientError, type DaemonClient } from '../../shared/client.js';
import { printable } from './printable.js';
import { ndjsonLines } from './ndjson.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

/** One member's line of POST /members/exec (execute_command's per-member result). */
interface ExecLine {
  member: string;
  ok: boolean;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  stopped?: 'timeout' | 'cancelled';
  error?: { code: string; message: string };
}

/** One line of a member's output as it comes (POST /members/exec streams these before the result). */
interface LiveLine {
  member: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Live output fleetd dropped because this client read slower than the member printed. */
interface SkippedLine {
  member: string;
  skipped: number;
}

/** Exit code fleetctl gives a member that did not run the command to its end (offline, stopped). */
const NOT_RUN_EXIT = 255;

/** Who to run on: `MEMBER`, `-m A,B` or `--all`, exactly one of them. */
export function targetsOf(member: string | undefined, m: string[] | undefined, all: boolean): { member: string } | { members: string[] | 'all' } {
  const list = (m ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const given = [member !== undefined, list.length > 0, all].filter(Boolean).length;
  if (given !== 1) throw new UsageError('name the members once: a MEMBER, -m A,B, or --all');
  if (all) return { members: 'all' };
  if (member !== undefined) return { member };
  return list.length === 1 ? { member: list[0]! } : { members: list };
}

/** Every line of `text` with `prefix` before it (none for an empty text). */
function prefixed(prefix: string, text: string): string {
  if (!text) return '';
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((l) => `${prefix}${l}\n`).join('');
}

/** What a member's result means as an exit code: the command's own, else NOT_RUN_EXIT. */
const exitOf = (r: ExecLine): number => (r.ok && r.exitCode !== null && r.exitCode !== undefined && !r.stopped ? r.exitCode : NOT_RUN_EXIT);

/** Why a member's result is not a plain exit 0, printable (the message may quote the member). */
function why(r: ExecLine): string {
  if (!r.ok) return printable(`${r.error?.code}: ${r.error?.message}`);
  if (r.stopped) return r.stopped === 'timeout' ? 'stopped after --timeout' : 'cancelled';
  return `exit ${r.exitCode}`;
}

/** `fleetctl exec`: a shell command on members through POST /members/exec, output line by line as it comes. */
export function execCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'exec [member]',
    describe: 'run a shell command on members: fleetctl exec MEMBER|-m A,B|--all -- COMMAND',
    builder: (y) =>
      y
        .parserConfiguration({ 'populate--': true })
        .positional('member', { type: 'string', describe: 'one member (or use -m / --all)' })
        .option('m', { alias: 'members', type: 'string', array: true, requiresArg: true, describe: 'members, comma-separated' })
        .option('all', { type: 'boolean', default: false, describe: 'every member' })
        .option('cwd', { type: 'string', requiresArg: true, describe: 'working directory on the member' })
        .option('timeout', { type: 'number', requiresArg: true, describe: 'stop the command after this many seconds (default 50)' })
        .option('json', { type: 'boolean', default: false, describe: "one JSON result per member and line (execute_command's shape)" })
        .example('$0 exec web-1 -- uptime', "web-1's output as is; fleetctl exits with the command's code")
        .example('$0 exec --all -- df -h /', 'every member, each line prefixed "member | "; non-zero when any failed'),
    handler: (raw) =>
      run(async () => {
        const argv = raw as unknown as Global & { member?: string; m?: string[]; all: boolean; cwd?: string; timeout?: number; json: boolean; '--'?: (string | number)[] };
        const words = (argv['--'] ?? []).map(String);
        if (words.length === 0) throw new UsageError('give the command after --, e.g. fleetctl exec web-1 -- uptime');
        if (argv.timeout !== undefined && !(argv.timeout > 0 && argv.timeout <= 86_400)) throw new UsageError('--timeout must be a number of seconds from 0 to 86400 (exclusive of 0)');
        const targets = targetsOf(argv.member, argv.m, argv.all);
        const single = 'member' in targets && targets.member !== 'all';
        const res = await clientOf(argv).stream('POST', '/members/exec', {
          ...targets,
          command: words.join(' '),
          ...(argv.cwd ? { cwd: argv.cwd } : {}),
          ...(argv.timeout !== undefined ? { timeout_s: argv.timeout } : {}),
        });
        const results: ExecLine[] = [];
        const owed = { stdout: false, stderr: false };
        const onLine = (line: string): void => {
          const v = JSON.parse(line) as ExecLine | LiveLine | SkippedLine;
          if ('skipped' in v) {
            if (!argv.json) process.stderr.write(`fleetctl: ${printable(v.member)}: ${v.skipped} bytes of output not shown (printed faster than this terminal read them)\n`);
            return;
          }
          // Output as it comes; the member's result at its end repeats it (capped), so it is not printed again.
          if ('stream' in v) {
            if (argv.json) return;
            // Prefixed lines are fleetctl's own layout: a member's control characters are shown, not obeyed.
            if (!single) return void (v.stream === 'stdout' ? process.stdout : process.stderr).write(prefixed(`${v.member} | `, printable(v.text)));
            // As is: a last newline waits for the result, which says whether the command printed it.
            const text = (owed[v.stream] ? '\n' : '') + v.text;
            owed[v.stream] = text.endsWith('\n');
            return void (v.stream === 'stdout' ? process.stdout : process.stderr).write(owed[v.stream] ? text.slice(0, -1) : text);
          }
          const r = v;
          results.push(r);
          if (argv.json) return void process.stdout.write(`${line}\n`);
          if (single) {
            if (owed.stdout && r.stdout?.endsWith('\n')) process.stdout.write('\n');
            if (owed.stderr && r.stderr?.endsWith('\n')) process.stderr.write('\n');
            if (exitOf(r) === NOT_RUN_EXIT) process.stderr.write(`fleetctl: ${r.member}: ${why(r)}\n`);
            return;
          }
          if (exitOf(r) !== 0) process.stderr.write(`${r.member} ! ${why(r)}\n`);
        };
        // fleetd stopping mid-command breaks the stream: the command may or may not have run to its end.
        const cutShort = (how: string) => new ClientError(`${how} before every member's result: the command may or may not have finished (see fleetctl events)`, 'http_error');
        const lines = ndjsonLines(res.body);
        for (;;) {
          let next: IteratorResult<string>;
          try {
            next = await lines.next();
          } catch (e) {
            throw cutShort(`the connection to fleetd broke (${(e as Error).message})`);
          }
          if (next.done) break;
          onLine(next.value);
        }
        if (results.length === 0) throw cutShort('fleetd ended the output');
        if (single) return void (process.exitCode = exitOf(results[0]!));
        const failed = results.filter((r) => exitOf(r) !== 0);
        if (!argv.json) {
          const detail = failed.map((r) => `${r.member}: ${why(r)}`).join('; ');
          process.stderr.write(`${results.length} members: ${results.length - failed.length} ok, ${failed.length} failed${detail ? ` (${detail})` : ''}\n`);
        }
        if (failed.length) process.exitCode = 1;
      }),
  };
}
