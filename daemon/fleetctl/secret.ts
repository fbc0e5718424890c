import { connect } from 'node:net';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ClientError, type DaemonClient } from '../../shared/client.js';
import { resolveHome } from '../../shared/home.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

interface CredentialView {
  name: string;
  description?: string;
  members: string[] | 'all';
  state: string;
  timeLeftS?: number;
}

/** Reads a value with echo off from a terminal (raw mode), or all of stdin when piped (one trailing newline dropped). */
export async function readValue(name: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  // Echo goes off before the prompt shows, so nothing typed (or pasted) at the prompt is echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(`Value for ${name} (input hidden): `);
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done(() => resolve(value));
          if (ch === '\u0003') return done(() => reject(new ClientError('cancelled', 'cancelled')));
          if (ch === '\u0004' && value === '') return done(() => reject(new ClientError('no value given', 'cancelled')));
          if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
          else if (ch >= ' ' || ch === '\t') value += ch;
        }
      };
      const done = (then: () => void) => {
        stdin.off('data', onData);
        then();
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** Hands a value to fleetd over FLEET_HOME/auth.sock and returns its answer. */
export function sendOverSocket(path: string, request: { name: string; value: string; ttl?: string }): Promise<{ ok?: true; credential?: CredentialView; error?: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (d) => (buf += d.toString('utf8')));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'fleetd is not running (no socket)' : e.code === 'EACCES' ? 'permission denied: run fleetctl as the user fleetd runs as' : e.message;
      reject(new ClientError(`cannot reach ${path}: ${why}`, e.code === 'EACCES' ? 'forbidden' : 'not_running'));
    });
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf));
      } catch {
        reject(new ClientError('fleetd closed the socket without an answer', 'bad_response'));
      }
    });
  });
}

/** `fleetctl secret set|list|rm`. */
export function secretCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'secret <command>',
    describe: 'enter credentials out of band (the agent never sees them), list or remove them',
    builder: (y: Argv<Global>) =>
      y
        .command(
          'set <name>',
          'store a secret: typed with echo off on a terminal, or read from stdin when piped',
          (s) => s.positional('name', { type: 'string', demandOption: true }).option('ttl', { type: 'string', describe: 'expire it after this long: seconds or 90s, 10m, 1h, 7d' }),
          (argv) =>
            run(async () => {
              const path = join(resolveHome(argv.home), 'auth.sock');
              const value = await readValue(argv.name);
              const answer = await sendOverSocket(path, { name: argv.name, value, ...(argv.ttl ? { ttl: argv.ttl } : {}) });
              if (answer.error) throw new ClientError(answer.error.message, answer.error.code);
              const left = answer.credential?.timeLeftS !== undefined ? ` (expires in ${answer.credential.timeLeftS} s)` : '';
              process.stdout.write(`✓ Secret stored: ${argv.name}${left}\n`);
            }),
        )
        .command(
          'list',
          'credentials with their scope and time left (never values)',
          (s) => s.option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const { credentials } = await clientOf(argv).request<{ credentials: CredentialView[] }>('GET', '/credentials');
              if (argv.json) return void process.stdout.write(`${JSON.stringify(credentials)}\n`);
              if (!credentials.length) return void process.stdout.write('no credentials\n');
              for (const c of credentials) {
                const left = c.timeLeftS !== undefined ? `  ${c.timeLeftS}s left` : '';
                process.stdout.write(`${c.name}  ${c.state}${left}  ${c.members === 'all' ? 'all members' : c.members.join(',')}${c.description ? `  ${c.description}` : ''}\n`);
              }
            }),
        )
        .command(
          'rm <name>',
          'delete a credential and erase its value',
          (s) => s.positional('name', { type: 'string', demandOption: true }),
          (argv) =>
            run(async () => {
              await clientOf(argv).request('DELETE', `/credentials/${encodeURIComponent(argv.name)}`);
              process.stdout.write(`deleted ${argv.name}\n`);
            }),
        )
        .demandCommand(1, 'name a secret command: set, list or rm'),
    handler: () => {},
  };
}
