import { chmodSync, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../shared/cli-usage.js';
import { ClientError, discover, readTokenFile } from '../../shared/client.js';
import { readToken } from '../../shared/discovery.js';
import { resolveHome, writePrivateFile } from '../../shared/home.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type Run = (fn: () => Promise<void>) => Promise<void>;
type Transport = 'http' | 'sse' | 'stdio';

/** The header every HTTP entry sends: the token by reference, expanded by the client from its environment. */
const AUTH_HEADER = { Authorization: 'Bearer ${FLEET_TOKEN}' };

/** This installation's fleet-bridge: by name when that name on PATH is this one, else node and its absolute path. */
function bridgeCommand(): { command: string; args: string[] } {
  const script = realpathSync(fileURLToPath(new URL('../../bridge/main.js', import.meta.url)));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'fleet-bridge');
    try {
      if (dir && existsSync(candidate) && realpathSync(candidate) === script) return { command: 'fleet-bridge', args: [] };
    } catch {
      // an unreadable PATH entry is not ours
    }
  }
  return { command: process.execPath, args: [script] };
}

/** This installation's fleetctl as a shell command: its name when that name on PATH is this one, else node and its absolute path. */
function fleetctlCommand(): string {
  const script = realpathSync(fileURLToPath(new URL('./main.js', import.meta.url)));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'fleetctl');
    try {
      if (dir && existsSync(candidate) && realpathSync(candidate) === script) return 'fleetctl';
    } catch {
      // an unreadable PATH entry is not ours
    }
  }
  return `${shq(process.execPath)} ${shq(script)}`;
}

/**
 * The `headersHelper` command (Claude Code runs it in a shell when it connects and sends the
 * JSON object it prints as headers): fleetctl reading the token file then, so the token is
 * never in the project file and a rotated token needs no edit.
 */
function headersHelper(argv: Global): string {
  const home = resolveHome(argv.home);
  const where = argv['token-file'] !== undefined ? ` --token-file ${shq(resolve(argv['token-file']))}` : home === resolveHome(undefined) ? '' : ` --home ${shq(home)}`;
  return `${fleetctlCommand()}${where} mcp-config --print-headers`;
}

/** The `mcpServers` entry for one transport (`helper`: headers from a headersHelper command instead of ${FLEET_TOKEN}). */
export function mcpEntry(transport: Transport, argv: Global, helper = false): Record<string, unknown> {
  const home = resolveHome(argv.home);
  if (transport === 'stdio') {
    const { command, args } = bridgeCommand();
    const homeArgs = home === resolveHome(undefined) ? [] : ['--home', home];
    return { type: 'stdio', command, args: [...args, '--autostart', ...homeArgs] };
  }
  const { url } = discover({ home, url: argv.url, tokenFile: argv['token-file'] });
  const endpoint = `${url}/${transport === 'http' ? 'mcp' : 'sse'}`;
  return helper ? { type: transport, url: endpoint, headersHelper: headersHelper(argv) } : { type: transport, url: endpoint, headers: AUTH_HEADER };
}

/** Single-quotes a word for a POSIX shell. */
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Merges the entry into an `.mcp.json`-shaped file, keeping every other server and key. */
function mergeInto(file: string, name: string, entry: Record<string, unknown>): void {
  let doc: Record<string, unknown> = {};
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    try {
      doc = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or move it, then run again`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file} does not hold a JSON object; expected {"mcpServers": {...}}`);
  }
  const servers = (doc.mcpServers ?? {}) as Record<string, unknown>;
  if (typeof servers !== 'object' || Array.isArray(servers)) throw new Error(`${file}: "mcpServers" is not an object`);
  doc.mcpServers = { ...servers, [name]: entry };
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644;
  writePrivateFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  if (mode !== 0o600) chmodSync(file, mode); // a project file others read stays as readable as it was
}

/** `fleetctl mcp-config`: the client configuration for the running daemon. */
export function mcpConfigCommand(run: Run): CommandModule<Global, Global> {
  return {
    command: 'mcp-config',
    describe: 'print (or merge into a file) the MCP client config for fleetd; the token stays an env reference, ${FLEET_TOKEN}',
    builder: (y) =>
      y
        .option('transport', { choices: ['http', 'sse', 'stdio'] as const, default: 'http' as const, describe: 'http (Streamable HTTP), sse (legacy), stdio (fleet-bridge)' })
        .option('name', { type: 'string', default: 'fleet', requiresArg: true, describe: 'server name in the config' })
        .option('claude', { type: 'boolean', default: false, describe: 'print the `claude mcp add-json` command instead' })
        .option('write', { type: 'string', requiresArg: true, describe: 'merge the entry into this .mcp.json, keeping the other servers' })
        .option('headers-helper', { type: 'boolean', default: false, describe: 'http/sse: a headersHelper command that reads the token file when the client connects, instead of ${FLEET_TOKEN}' })
        .option('print-headers', { type: 'boolean', default: false, describe: 'print {"Authorization": "Bearer <token>"} from the token file (what --headers-helper runs)' })
        .example('$0 mcp-config --write .mcp.json', 'add fleet to the project config (export FLEET_TOKEN=$(cat ~/.fleet/token) before starting the client)')
        .example('$0 mcp-config --transport stdio', 'the fleet-bridge entry for stdio-only clients'),
    handler: (raw) =>
      run(async () => {
        const argv = raw as unknown as Global & { transport: Transport; name: string; claude: boolean; write?: string; 'headers-helper': boolean; 'print-headers': boolean };
        if (argv['print-headers']) {
          const home = resolveHome(argv.home);
          const token = argv['token-file'] !== undefined ? readTokenFile(argv['token-file']) : readToken(home);
          if (!token) throw new ClientError(`no token: ${home}/token is missing and FLEET_TOKEN is not set`, 'no_token');
          return void process.stdout.write(`${JSON.stringify({ Authorization: `Bearer ${token}` })}\n`);
        }
        if (argv['headers-helper'] && argv.transport === 'stdio') throw new UsageError('--headers-helper is for --transport http or sse; the stdio bridge reads the token file itself');
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(argv.name)) throw new UsageError(`--name must be 1-64 letters, digits, _ . or -, not "${argv.name.slice(0, 80)}"`);
        const entry = mcpEntry(argv.transport, argv, argv['headers-helper']);
        const tokenNote = argv.transport === 'stdio' || argv['headers-helper'] ? undefined : `the client expands \${FLEET_TOKEN}: export FLEET_TOKEN="$(cat ${resolveHome(argv.home)}/token)" before starting it`;
        if (argv.write !== undefined) {
          mergeInto(argv.write, argv.name, entry);
          process.stdout.write(`wrote "${argv.name}" (${argv.transport}) into ${argv.write}\n`);
        } else if (argv.claude) {
          process.stdout.write(`claude mcp add-json --scope project ${shq(argv.name)} ${shq(JSON.stringify(entry))}\n`);
        } else {
          process.stdout.write(`${JSON.stringify({ mcpServers: { [argv.name]: entry } }, null, 2)}\n`);
        }
        if (tokenNote) process.stderr.write(`fleetctl: ${tokenNote}\n`);
      }),
  };
}
