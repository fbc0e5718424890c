import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../shared/cli-usage.js';
import { ClientError, type DaemonClient } from '../../shared/client.js';
import { printable } from './printable.js';
import { ProgressBar } from './progress.js';
import { ndjsonLines } from './ndjson.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

interface TransferLine {
  member: string;
  ok: boolean;
  files?: { from: string; to: string; bytes: number; verified: boolean }[];
  skipped?: unknown[];
  error?: { code: string; message: string };
}

/** `TARGET:PATH`, TARGET a member, a comma list or "all"; anything else is a local path (write ./a:b for a local name with a colon). */
function remoteOf(arg: string): { targets: { member: string } | { members: string[] | 'all' }; path: string } | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.,-]*):(.*)$/s.exec(arg);
  if (!m) return undefined;
  const names = m[1]!.split(',').filter(Boolean);
  const targets = names.length === 1 ? (names[0] === 'all' ? { members: 'all' as const } : { member: names[0]! }) : { members: names };
  return { targets, path: m[2] || '.' };
}

/** Runs a transfer with its progress streamed (NDJSON) and drawn on stderr; returns the results. */
async function withProgress(client: DaemonClient, path: string, req: unknown): Promise<TransferLine[]> {
  const res = await client.stream('POST', path, req);
  const bar = new ProgressBar(process.stderr);
  let results: TransferLine[] | undefined;
  const onLine = (line: string) => {
    const v = JSON.parse(line) as { progress?: { member: string; bytes: number; total: number }; results?: TransferLine[]; error?: { code: string; message: string } };
    if (v.progress) bar.update(v.progress.member, v.progress.bytes, v.progress.total);
    if (v.results) results = v.results;
    if (v.error) {
      bar.clear();
      throw new ClientError(v.error.message, v.error.code);
    }
  };
  for await (const line of ndjsonLines(res.body)) onLine(line);
  bar.clear();
  if (!results) throw new ClientError('fleetd ended the transfer without results', 'http_error');
  return results;
}

/** `fleetctl cp`: send_files / fetch_files over POST /members/send and /members/fetch. */
export function cpCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'cp <source> <destination>',
    describe: 'copy files or folders to or from members (scp-like: MEMBER:PATH, A,B:PATH or all:PATH; {member} in paths)',
    builder: (y) =>
      y
        .positional('source', { type: 'string', demandOption: true })
        .positional('destination', { type: 'string', demandOption: true })
        .option('json', { type: 'boolean', default: false, describe: "the per-member results as JSON (send_files/fetch_files' shape)" })
        .example('$0 cp ./build.tgz all:/tmp/', 'to every member, verified by SHA-256')
        .example("$0 cp web-1,web-2:/var/log/syslog './logs/{member}/'", 'from several members, one folder each'),
    handler: (raw) =>
      run(async () => {
        const argv = raw as unknown as Global & { source: string; destination: string; json: boolean };
        const from = remoteOf(argv.source);
        const to = remoteOf(argv.destination);
        if (!!from === !!to) throw new UsageError('one side of cp is a member path (MEMBER:PATH, A,B:PATH or all:PATH) and the other a local path');
        const fetching = !!from;
        const remote = (from ?? to)!;
        const local = resolve(fetching ? argv.destination : argv.source) + ((fetching ? argv.destination : argv.source).endsWith('/') ? '/' : '');
        const req = { ...remote.targets, files: [{ local, remote: remote.path }] };
        const path = fetching ? '/members/fetch' : '/members/send';
        // A progress bar only where someone watches: stderr a terminal, and not for --json.
        const results = process.stderr.isTTY && !argv.json ? await withProgress(clientOf(argv), path, req) : (await clientOf(argv).request<{ results: TransferLine[] }>('POST', path, req)).results;
        if (argv.json) process.stdout.write(`${JSON.stringify(results)}\n`);
        else
          for (const r of results) {
            if (!r.ok) process.stderr.write(`${r.member}: ✗ ${printable(`${r.error?.code}: ${r.error?.message}`)}\n`);
            else {
              const bytes = (r.files ?? []).reduce((n, f) => n + f.bytes, 0);
              process.stdout.write(`${r.member}: ${r.files?.length ?? 0} file(s), ${bytes} bytes ${fetching ? 'fetched' : 'sent'}${(r.files ?? []).every((f) => f.verified) ? ', SHA-256 verified' : ', NOT verified'}${r.skipped?.length ? `; ${r.skipped.length} skipped` : ''}\n`);
            }
          }
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      }),
  };
}
