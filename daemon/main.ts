#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { resolveHome, homePaths } from '../shared/home.js';
import { VERSION } from '../shared/version.js';
import { startupBanner } from './banner.js';
import { startDaemon, DEFAULT_PORT } from './daemon.js';
import { FleetError } from './errors.js';
import { DAMAGED_DATABASE_EXIT } from './events/db-check.js';
import { UNSAFE_HOME_EXIT } from './home-check.js';
import { USAGE_EXIT, failUsage, portArg } from '../shared/cli-usage.js';

const argv = yargs(hideBin(process.argv))
  .scriptName('fleetd')
  .usage(
    '$0 [options]\n\nThe fleet daemon: owns the SSH connections to the fleet\'s members, keeps every event in a durable log under FLEET_HOME, and serves MCP (Streamable HTTP at /mcp, legacy SSE at /sse) and a raw event stream (/events) on localhost.',
  )
  .option('transport', { choices: ['http', 'stdio'] as const, default: 'http' as const, describe: 'http serves every client on localhost; stdio serves one MCP client on stdin/stdout' })
  .option('host', { type: 'string', requiresArg: true, describe: 'address to listen on (default 127.0.0.1; env FLEET_HOST)' })
  .option('allow-remote', { type: 'boolean', describe: 'allow a --host beyond loopback (the token then travels in clear over plain HTTP; config allowRemote)' })
  .option('port', { type: 'string', requiresArg: true, describe: `port to listen on; 0 picks a free one (default ${DEFAULT_PORT}, or a free one if taken; env FLEET_PORT)` })
  .option('home', { type: 'string', requiresArg: true, describe: 'state folder (default ~/.fleet; env FLEET_HOME)' })
  .example('$0', `serve on http://127.0.0.1:${DEFAULT_PORT} with state in ~/.fleet`)
  .example('$0 --port 0 --home /tmp/fleet-test', 'a throwaway daemon on a free port')
  .epilog(
    'Clients find the daemon through FLEET_HOME/server.json and authenticate with FLEET_HOME/token.\n\n' +
      `Exit codes: 0 stopped cleanly; 1 failed; ${USAGE_EXIT} bad command line; 3 another fleetd already holds this home; ${DAMAGED_DATABASE_EXIT} fleet.db is damaged; ` +
      `${UNSAFE_HOME_EXIT} the home, its token or config.json belongs to another user or is writable by group or others (fix the owner or mode it names).`,
  )
  .version(VERSION)
  .strict()
  .help()
  .fail(failUsage('fleetd'))
  .parseSync();

let port: number | undefined;
try {
  port = portArg('--port', argv.port);
} catch (e) {
  failUsage('fleetd')(undefined, e as Error);
}

// Everything fleetd creates (database, WAL, logs, sockets) is private to its user.
process.umask(0o077);
const home = resolveHome(argv.home);

async function main(): Promise<void> {
  if (argv.transport === 'stdio') {
    const { runStdio } = await import('./mcp/stdio.js');
    await runStdio({ home });
    return;
  }
  const daemon = await startDaemon({ home, flags: { host: argv.host, port, allowRemote: argv.allowRemote } });
  process.stderr.write(
    startupBanner({
      version: VERSION,
      pid: process.pid,
      url: daemon.url,
      port: daemon.port,
      home,
      tokenPath: homePaths(home).token,
      requestedPort: daemon.ctx.config.port,
      defaultPort: DEFAULT_PORT,
    }),
  );
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    daemon.stop(`received ${sig}`).then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`fleetd: error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((e) => {
  const msg = e instanceof FleetError ? e.message : (e as Error).message;
  process.stderr.write(`fleetd: ${msg}\n`);
  const code = e instanceof FleetError ? e.code : '';
  process.exit(code === 'already_running' ? 3 : code === 'database_damaged' ? DAMAGED_DATABASE_EXIT : code === 'unsafe_home' ? UNSAFE_HOME_EXIT : 1);
});
