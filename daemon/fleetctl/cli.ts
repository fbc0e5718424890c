import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { USAGE_EXIT, UsageError, failUsage } from '../../shared/cli-usage.js';
import { ClientError, DaemonClient, discover } from '../../shared/client.js';
import { LEVELS, type FleetEvent } from '../../shared/events.js';
import type { StatusView } from '../../shared/protocol.js';
import { resolveHome } from '../../shared/home.js';
import { VERSION } from '../../shared/version.js';
import { ciCommand } from './ci.js';
import { cpCommand } from './cp.js';
import { doctorCommand } from './doctor.js';
import { eventsCommand } from './events.js';
import { execCommand } from './exec.js';
import { mcpConfigCommand } from './mcp-config.js';
import { membersCommand } from './members.js';
import { secretCommand } from './secret.js';
import { serviceCommand } from './service/command.js';
import { tasksCommand } from './tasks.js';
import { hookCommand, hooksCommand } from './hooks/commands.js';
import { MAX_LIMIT, cliWords, limitArg, sinceArg } from './words.js';

type Global = { home?: string; url?: string; 'token-file'?: string };

function clientOf(argv: Global): DaemonClient {
  const home = resolveHome(argv.home);
  return new DaemonClient(() => discover({ home, url: argv.url, tokenFile: argv['token-file'] }), home);
}

/** Runs a command, turning client errors into one stderr line and a non-zero exit. */
function run(fn: () => Promise<void>): Promise<void> {
  return Promise.resolve()
    .then(fn)
    .catch((e) => {
      if (e instanceof UsageError) return failUsage('fleetctl')(undefined, e);
      process.stderr.write(`fleetctl: ${cliWords((e as Error).message)}\n`);
      process.exitCode = e instanceof ClientError && e.code === 'not_running' ? 3 : e instanceof ClientError && e.code === 'bad_token_file' ? USAGE_EXIT : 1;
    });
}

await yargs(hideBin(process.argv))
  .scriptName('fleetctl')
  .usage('$0 <command> [options]\n\nControl and observe fleetd, the fleet daemon.')
  .option('home', { type: 'string', requiresArg: true, global: true, describe: 'fleetd state folder (default ~/.fleet; env FLEET_HOME)' })
  .option('url', { type: 'string', requiresArg: true, global: true, describe: 'daemon base URL (default: from FLEET_HOME/server.json; env FLEET_URL)' })
  .option('token-file', { type: 'string', requiresArg: true, global: true, describe: 'file holding the bearer token (default FLEET_HOME/token; env FLEET_TOKEN)' })
  .command(
    'events',
    'print fleet events: history from --since, then live ones with --follow',
    (y) =>
      y
        .option('since', { type: 'string', requiresArg: true, describe: 'event id (after it), ISO time, or duration like 10m, 2h, 7d (default 1h; with --follow, now)' })
        .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep streaming new events; reconnects by itself, with no gap and no duplicate' })
        .option('topic', { alias: 't', type: 'string', array: true, default: [] as string[], describe: 'topic glob(s), e.g. member.* task.failed' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON event per line' })
        .option('limit', { type: 'string', requiresArg: true, describe: `stop after this many events (1-${MAX_LIMIT})` })
        .example('$0 events --since 2h --topic "member.*"', 'member events of the last two hours')
        .example('$0 events -f --json', 'stream every new event as JSON lines'),
    (argv) => run(() => eventsCommand(clientOf(argv), { since: sinceArg(argv.since), follow: argv.follow, topic: argv.topic, json: argv.json, limit: limitArg(argv.limit) })),
  )
  .command(
    'publish <topic> <message>',
    'publish a custom event (topics outside member. task. credential. ci. file. fleet.)',
    (y) =>
      y
        .positional('topic', { type: 'string', demandOption: true })
        .positional('message', { type: 'string', demandOption: true })
        .option('level', { choices: LEVELS, default: 'info' as const })
        .option('subject', { type: 'string', requiresArg: true })
        .option('data', { type: 'string', requiresArg: true, describe: 'JSON object attached as data' })
        .option('json', { type: 'boolean', default: false, describe: 'print the stored event as JSON' })
        .example('$0 publish deploy.finished "web deployed" --data \'{"sha":"abc"}\'', ''),
    (argv) =>
      run(async () => {
        let data: Record<string, unknown> | undefined;
        if (argv.data !== undefined) {
          try {
            data = JSON.parse(argv.data) as Record<string, unknown>;
          } catch {
            throw new UsageError(`--data is not valid JSON: ${argv.data.slice(0, 80)}`);
          }
          if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`--data must be a JSON object, e.g. '{"sha":"abc"}'`);
        }
        const e = await clientOf(argv).request<FleetEvent>('POST', '/events', { topic: argv.topic, message: argv.message, level: argv.level, subject: argv.subject, data });
        process.stdout.write(argv.json ? `${JSON.stringify(e)}\n` : `published event ${e.id} (${e.topic})\n`);
      }),
  )
  .command(
    'status',
    'is fleetd up? where, since when, and how many events it holds',
    (y) => y.option('json', { type: 'boolean', default: false }),
    (argv) =>
      run(async () => {
        // discover() finds the daemon as every command does: --url, FLEET_URL, then server.json.
        const s = await clientOf(argv).request<StatusView>('GET', '/status');
        if (argv.json) {
          process.stdout.write(`${JSON.stringify(s)}\n`);
          return;
        }
        const lines = [
          `fleetd ${s.version} is running`,
          `  url:          ${s.url}`,
          `  pid:          ${s.pid}`,
          `  home:         ${s.home}`,
          `  up since:     ${s.startedAt} (${formatUptime(Number(s.uptimeS))})`,
          `  last event:   ${s.lastEventId}`,
          `  events held:  ${s.eventsStored}`,
          `  SSE streams:  ${s.sseStreams}`,
        ];
        if (s.mcpSessions !== undefined) lines.push(`  MCP sessions: ${s.mcpSessions}`);
        const m = s.members;
        if (m) lines.push(`  members:      ${m.total} (${m.online} online, ${m.offline} offline${m.connecting ? `, ${m.connecting} connecting` : ''})`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
  )
  .command(membersCommand(clientOf, run))
  .command(secretCommand(clientOf, run))
  .command(tasksCommand(clientOf, run))
  .command(ciCommand(clientOf, run))
  .command(hooksCommand(run))
  .command(hookCommand())
  .command(execCommand(clientOf, run))
  .command(cpCommand(clientOf, run))
  .command(serviceCommand(run))
  .command(mcpConfigCommand(run))
  .command(doctorCommand(run))
  .completion('completion', 'print a bash/zsh completion script: fleetctl completion >> ~/.bashrc')
  .demandCommand(1, 'name a command: events, publish, status, members, secret, tasks, ci, exec, cp, service, mcp-config, doctor, completion, hooks or hook')
  .strict()
  .version(VERSION)
  .help()
  .fail(failUsage('fleetctl'))
  .parseAsync();

function formatUptime(s: number): string {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}
