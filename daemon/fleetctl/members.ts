import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { cliWords } from './words.js';
import { portArg } from '../../shared/cli-usage.js';
import type { DaemonClient } from '../../shared/client.js';
import type { MemberView } from '../../shared/protocol.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/** A path given on the command line: relative to where fleetctl runs, since the daemon has no idea. */
function absolute(p: string | undefined): string | undefined {
  return p === undefined || p.startsWith('~') ? p : resolve(p);
}

/** Aligned columns, for `members list`. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function stateText(m: MemberView): string {
  return m.state === 'offline' && m.reason ? `offline (${m.reason})` : m.state;
}

/** One member in full, one field a line. */
function details(m: Record<string, unknown>): string {
  const lines: string[] = [];
  const walk = (obj: Record<string, unknown>, indent: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        lines.push(`${indent}${k}:`);
        walk(v as Record<string, unknown>, `${indent}  `);
      } else lines.push(`${indent}${`${k}:`.padEnd(14)} ${v === null ? '-' : String(v)}`);
    }
  };
  walk(m, '');
  return lines.join('\n');
}

const sshOptions = (y: Argv<Global>) =>
  y
    .option('host', { type: 'string', requiresArg: true, describe: 'SSH host name or IP' })
    .option('port', { type: 'string', requiresArg: true, describe: 'SSH port (default 22)' })
    .option('user', { type: 'string', requiresArg: true, describe: 'login user (default: the user fleetd runs as)' })
    .option('identity-file', { alias: 'i', type: 'string', requiresArg: true, describe: 'private key file (its path is stored, never its contents)' })
    .option('agent', { type: 'boolean', describe: 'authenticate with ssh-agent (SSH_AUTH_SOCK of fleetd)' })
    .option('password-credential', { type: 'string', requiresArg: true, describe: 'credential holding the SSH password (enter it with `fleetctl secret set NAME`)' })
    .option('passphrase-credential', { type: 'string', requiresArg: true, describe: "credential holding the identity file's passphrase" })
    .option('description', { type: 'string', requiresArg: true })
    .option('json', { type: 'boolean', default: false });

/** `fleetctl members list|add|update|remove|show`, over the daemon's /members routes. */
export function membersCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'members <command>',
    describe: 'list, add, change and remove fleet members (machines reached over SSH, or this one)',
    builder: (y) =>
      y
        .command(
          'list',
          'every member with its state',
          (c) => c.option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const { members } = await clientOf(argv).request<{ members: MemberView[] }>('GET', '/members');
              if (argv.json) return out(JSON.stringify(members));
              if (members.length === 0) return out('no members yet; add one with `fleetctl members add NAME --host HOST`');
              out(table([['NAME', 'STATE', 'ADDRESS', 'SINCE'], ...members.map((m) => [m.name, stateText(m), m.address ?? 'this machine', m.since ?? '-'])]));
            }),
        )
        .command(
          'add <name>',
          'register a member (kind ssh unless --local)',
          (c) => sshOptions(c.positional('name', { type: 'string', demandOption: true })).option('local', { type: 'boolean', default: false, describe: 'this machine, without SSH' }),
          (argv) =>
            run(async () => {
              const body = {
                name: argv.name,
                ...(argv.local ? { kind: 'local' } : {}),
                host: argv.host,
                port: portArg('--port', argv.port, 1),
                user: argv.user,
                identity_file: absolute(argv['identity-file']),
                use_agent: argv.agent,
                password_credential: argv['password-credential'],
                passphrase_credential: argv['passphrase-credential'],
                description: argv.description,
              };
              const { member } = await clientOf(argv).request<{ member: MemberView }>('POST', '/members', body);
              if (argv.json) return out(JSON.stringify(member));
              out(`added ${member.name} (${member.address ?? 'this machine'}): ${stateText(member)}${member.lastError ? ` - ${member.lastError}` : ''}`);
            }),
        )
        .command(
          'update <name>',
          'change a member; --accept-new-host-key trusts the key it presents now',
          (c) => sshOptions(c.positional('name', { type: 'string', demandOption: true })).option('accept-new-host-key', { type: 'boolean', describe: 'after a host key mismatch you have checked' }),
          (argv) =>
            run(async () => {
              const body = {
                host: argv.host,
                port: portArg('--port', argv.port, 1),
                user: argv.user,
                identity_file: absolute(argv['identity-file']),
                use_agent: argv.agent,
                password_credential: argv['password-credential'],
                passphrase_credential: argv['passphrase-credential'],
                description: argv.description,
                accept_new_host_key: argv['accept-new-host-key'],
              };
              const r = await clientOf(argv).request<{ member: MemberView; changed: string[]; notes: string[] }>('PATCH', `/members/${encodeURIComponent(String(argv.name))}`, body);
              if (argv.json) return out(JSON.stringify(r));
              out(`${r.member.name}: ${r.changed.length ? `changed ${r.changed.join(', ')}` : 'nothing changed'}; ${stateText(r.member)}`);
              for (const n of r.notes) out(`  ${cliWords(n)}`);
            }),
        )
        .command(
          'remove <name>',
          'forget a member: close its connection, drop its settings and host key',
          (c) => c.positional('name', { type: 'string', demandOption: true }),
          (argv) =>
            run(async () => {
              const r = await clientOf(argv).request<{ removed: string }>('DELETE', `/members/${encodeURIComponent(argv.name)}`);
              out(`removed ${r.removed}`);
            }),
        )
        .command(
          'show <name>',
          'one member in full: settings, state, host key, channels',
          (c) => c.positional('name', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const { member } = await clientOf(argv).request<{ member: Record<string, unknown> }>('GET', `/members/${encodeURIComponent(argv.name)}`);
              out(argv.json ? JSON.stringify(member) : details(member));
            }),
        )
        .demandCommand(1, 'name a members command: list, add, update, remove or show')
        .example('$0 members add web-1 --host 10.0.0.5 --user deploy -i ~/.ssh/id_ed25519', '')
        .example('$0 members update web-1 --accept-new-host-key', 'after checking a changed host key'),
    handler: () => undefined,
  };
}
