import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readTokenFile } from '../shared/client.js';
import { parseDuration } from '../shared/events.js';
import { resolveHome } from '../shared/home.js';
import { VERSION } from '../shared/version.js';

/** Everything the bridge is told on its command line. */
export interface BridgeOptions {
  home: string;
  url?: string;
  tokenFile?: string;
  autostart: boolean;
  /** How long a request waits for fleetd to come back before it fails. */
  waitTimeoutMs: number;
  /** How long an autostarted fleetd may take to become healthy. */
  startTimeoutMs: number;
  channel: boolean;
  verbose: boolean;
}

const DEFAULT_WAIT = '30s';

/** The options, once: util.parseArgs reads them on every start, yargs renders --help and errors. */
const OPTIONS = {
  home: { type: 'string', describe: 'fleetd state folder whose server.json and token locate the daemon (default ~/.fleet; env FLEET_HOME)' },
  url: { type: 'string', describe: 'fleetd base URL, e.g. http://127.0.0.1:7411, instead of server.json (env FLEET_URL)' },
  'token-file': { type: 'string', describe: 'file holding the bearer token (default FLEET_HOME/token; env FLEET_TOKEN holds the token itself)' },
  autostart: { type: 'boolean', describe: 'start fleetd on --home (detached, log in FLEET_HOME/logs/fleetd.log) when none runs, also after it dies; not with --url' },
  'wait-timeout': { type: 'string', describe: `how long a request waits for an absent fleetd before it fails: seconds or a duration like 90s, 2m (default ${DEFAULT_WAIT})` },
  channel: { type: 'boolean', describe: 'Claude Code channel mode: declare experimental "claude/channel" and also send each fleet event as notifications/claude/channel, so it reaches the model; keeps the client on MCP 2025-11-25 (a server/discover is refused, so it falls back to initialize)' },
  verbose: { type: 'boolean', describe: 'print connection and session diagnostics on stderr (errors are always printed)' },
} as const;

const USAGE = `$0 [options]

A stdio MCP server for clients that cannot speak HTTP: relays every JSON-RPC message
between its stdin/stdout and fleetd's /mcp, holds fleetd's event stream open, and
survives daemon restarts without losing or repeating an event. stdout carries only
JSON-RPC; diagnostics go to stderr.`;

/**
 * Reads the command line. Returns undefined after printing --help or --version, and exits
 * with status 2 (after yargs explains) on a bad option. yargs costs ~40 ms to load, so
 * only help and errors pay for it.
 */
export async function parseCli(argv: string[]): Promise<BridgeOptions | undefined> {
  const config: ParseArgsConfig = {
    args: argv,
    options: { ...OPTIONS, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs(config).values as typeof values;
  } catch (e) {
    return explain(argv, (e as Error).message);
  }
  if (values.help) return explain(argv);
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return undefined;
  }
  const wait = parseDuration(String(values['wait-timeout'] ?? DEFAULT_WAIT));
  if (wait === undefined) return explain(argv, `--wait-timeout "${values['wait-timeout']}" is not a duration: use seconds (30) or a duration such as 90s or 2m`);
  if (values['token-file'] !== undefined) {
    // Read once now so a wrong path fails at start, naming the file, not at the first request.
    try {
      readTokenFile(String(values['token-file']));
    } catch (e) {
      return explain(argv, (e as Error).message);
    }
  }
  return {
    home: resolveHome(values.home as string | undefined),
    url: values.url as string | undefined,
    tokenFile: values['token-file'] as string | undefined,
    autostart: values.autostart === true,
    waitTimeoutMs: wait,
    startTimeoutMs: Math.max(15_000, wait),
    channel: values.channel === true,
    verbose: values.verbose === true,
  };
}

/** Prints help (or an error with help) through yargs, then exits. */
async function explain(argv: string[], error?: string): Promise<never> {
  const { default: yargs } = await import('yargs');
  const y = yargs(argv)
    .scriptName('fleet-bridge')
    .usage(USAGE)
    .options(OPTIONS)
    .example('$0', 'relay to the fleetd of ~/.fleet')
    .example('$0 --autostart --channel', 'start fleetd if needed; push events into Claude Code as channel messages')
    .example('$0 --url http://127.0.0.1:7411 --token-file ~/.fleet/token', 'a daemon found without server.json')
    .epilog(
      'In .mcp.json: {"mcpServers": {"fleet": {"command": "fleet-bridge", "args": ["--autostart"]}}}\n' +
        'After fleetd restarts, the bridge opens a new session with the client\'s original initialize parameters and fleetd replays the events published meanwhile, once, in order.',
    )
    .version(VERSION)
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100));
  if (error === undefined) {
    y.showHelp((s: string) => process.stdout.write(`${s}\n`));
    process.exit(0);
  }
  y.showHelp((s: string) => process.stderr.write(`${s}\n`));
  process.stderr.write(`\nfleet-bridge: ${error}\n`);
  process.exit(2);
}
