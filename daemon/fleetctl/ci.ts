import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ClientError, type DaemonClient } from '../../shared/client.js';
import { resolveHome } from '../../shared/home.js';
import { sendOverSocket } from './secret.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type ClientOf = (argv: Global) => DaemonClient;
type Run = (fn: () => Promise<void>) => Promise<void>;

interface WebhookInfo {
  path: string;
  localUrl: string;
  secretCredential: string;
  contentType: string;
  events: string[];
}

interface WatchRow {
  repo: string;
  branch?: string;
  workflow?: string;
  lastPollAt?: string;
  lastError?: string;
  states: { branch: string; workflow: string; state: string; conclusion: string | null; sha: string | null }[];
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

const target = (y: Argv<Global>) =>
  y
    .positional('repo', { type: 'string', demandOption: true, describe: 'owner/name' })
    .option('branch', { type: 'string', requiresArg: true, describe: "branch (default: the repository's default branch)" })
    .option('workflow', { type: 'string', requiresArg: true, describe: 'only this workflow, check run or status context' });

/** `fleetctl ci setup|watch|unwatch|list`: the GitHub webhook's secret, and polled watches over /ci. */
export function ciCommand(clientOf: ClientOf, run: Run): CommandModule<Global, Global> {
  return {
    command: 'ci <command>',
    describe: 'CI status from GitHub: set up the webhook, or watch repositories by polling',
    builder: (y: Argv<Global>) =>
      y
        .command(
          'setup',
          'make a new webhook secret, store it in the vault, and print what to enter on GitHub',
          (s) => s.option('public-url', { type: 'string', requiresArg: true, describe: "the tunnel's public base URL (https://...), to print the full payload URL" }).option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const info = await clientOf(argv).request<WebhookInfo>('GET', '/ci/webhook');
              const secret = randomBytes(32).toString('hex');
              const answer = await sendOverSocket(join(resolveHome(argv.home), 'auth.sock'), { name: info.secretCredential, value: secret });
              if (answer.error) throw new ClientError(answer.error.message, answer.error.code);
              const base = argv['public-url']?.replace(/\/+$/, '');
              const payloadUrl = base ? `${base}${info.path}` : `https://YOUR-TUNNEL${info.path}`;
              if (argv.json) return out(JSON.stringify({ payloadUrl, contentType: info.contentType, secret, events: info.events, secretCredential: info.secretCredential, localUrl: info.localUrl }));
              out(`✓ Webhook secret stored as the credential ${info.secretCredential} (any older one is replaced).`);
              out('');
              out('On GitHub: the repository (or organisation) > Settings > Webhooks > Add webhook:');
              out(`  Payload URL:   ${payloadUrl}`);
              out(`  Content type:  ${info.contentType}`);
              out(`  Secret:        ${secret}`);
              out(`  Events:        "Let me select individual events": ${info.events.join(', ')}`);
              out('');
              out(`fleetd listens on ${info.localUrl}; expose that one path through a tunnel of your choice (see README, "CI status").`);
              out('The secret is shown only now; run this again to make a new one (then update it on GitHub).');
            }),
        )
        .command(
          'watch <repo>',
          "follow a repository's CI by polling GitHub's API (no public URL needed)",
          (s) => target(s),
          (argv) =>
            run(async () => {
              const { watch } = await clientOf(argv).request<{ watch: WatchRow }>('POST', '/ci/watches', { repo: argv.repo, branch: argv.branch, workflow: argv.workflow });
              out(`watching ${watch.repo}${watch.branch ? ` ${watch.branch}` : ''}${watch.workflow ? ` (${watch.workflow})` : ''}`);
            }),
        )
        .command(
          'unwatch <repo>',
          'stop polling a repository (same branch and workflow as given to watch)',
          (s) => target(s),
          (argv) =>
            run(async () => {
              await clientOf(argv).request('DELETE', '/ci/watches', { repo: argv.repo, branch: argv.branch, workflow: argv.workflow });
              out(`stopped watching ${argv.repo}`);
            }),
        )
        .command(
          'list',
          'watched repositories and the CI state known for each workflow',
          (s) => s.option('json', { type: 'boolean', default: false }),
          (argv) =>
            run(async () => {
              const { watches } = await clientOf(argv).request<{ watches: WatchRow[] }>('GET', '/ci/watches');
              if (argv.json) return out(JSON.stringify(watches));
              if (!watches.length) return out('no CI watches');
              for (const w of watches) {
                out(`${w.repo}${w.branch ? ` ${w.branch}` : ''}${w.workflow ? ` (${w.workflow})` : ''}${w.lastPollAt ? `  polled ${w.lastPollAt}` : ''}${w.lastError ? `  error: ${w.lastError}` : ''}`);
                for (const s of w.states) out(`  ${s.branch}  ${s.workflow}  ${s.state}${s.conclusion ? ` (${s.conclusion})` : ''}${s.sha ? `  ${s.sha.slice(0, 7)}` : ''}`);
              }
            }),
        )
        .demandCommand(1, 'name a ci command: setup, watch, unwatch or list'),
    handler: () => undefined,
  };
}
