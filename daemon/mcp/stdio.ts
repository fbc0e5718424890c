import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { VERSION } from '../../shared/version.js';
import { openCore } from '../core.js';
import { FleetError } from '../errors.js';
import { McpSession } from './session.js';

/**
 * `fleetd --transport stdio`: the same tools and pushed events for one client on
 * stdin/stdout. It owns the home like the HTTP daemon, so it refuses to start beside one.
 */
export async function runStdio(opts: { home: string }): Promise<void> {
  let core;
  try {
    core = await openCore(opts.home);
  } catch (e) {
    if (e instanceof FleetError && e.code === 'already_running') {
      throw new FleetError('already_running', `${e.message}. To reach the running daemon over stdio, use fleet-bridge (it relays stdio to that daemon).`, 409);
    }
    throw e;
  }
  const { ctx } = core;
  const transport = new StdioServerTransport();
  const session = new McpSession('stdio', 'stdio', transport, ctx, core.parts);
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  transport.onclose = () => finished();
  await session.connect();
  await ctx.log.append({ topic: 'fleet.started', level: 'info', message: `fleetd ${VERSION} started (stdio)`, data: { pid: process.pid, transport: 'stdio', version: VERSION } });
  session.pusher.start();
  const stop = async (reason: string) => {
    await ctx.log.append({ topic: 'fleet.stopping', level: 'info', message: `fleetd stopping: ${reason}`, data: { pid: process.pid, reason } }).catch(() => undefined);
    await session.close();
    await core.close();
  };
  process.stdin.once('end', () => finished());
  process.once('SIGTERM', () => finished());
  process.once('SIGINT', () => finished());
  await done;
  await stop('stdin closed');
  process.exit(0);
}
