import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { VERSION } from '../../shared/version.js';
import { openCore } from '../core.js';
import { FleetError } from '../errors.js';
import { readOpening, serveModernStdio } from './modern/stdio.js';
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
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  // With mcp.modern on, the first message picks the era: 2026-07-28 `_meta` is served by SDK v2, initialize by the session below.
  const opening = ctx.config.mcp.modern ? await readOpening(process.stdin) : undefined;
  let close: () => Promise<void>;
  let startPush = () => {};
  if (opening?.modern) {
    const modern = serveModernStdio(ctx, core.parts, opening.input);
    close = () => modern.close();
  } else {
    const transport = opening ? new StdioServerTransport(opening.input, process.stdout) : new StdioServerTransport();
    const session = new McpSession('stdio', 'stdio', transport, ctx, core.parts);
    transport.onclose = () => finished();
    await session.connect();
    startPush = () => session.pusher.start();
    close = () => session.close();
  }
  await ctx.log.append({ topic: 'fleet.started', level: 'info', message: `fleetd ${VERSION} started (stdio)`, data: { pid: process.pid, transport: 'stdio', version: VERSION } });
  startPush();
  const stop = async (reason: string) => {
    await ctx.log.append({ topic: 'fleet.stopping', level: 'info', message: `fleetd stopping: ${reason}`, data: { pid: process.pid, reason } }).catch(() => undefined);
    await close();
    await core.close();
  };
  process.stdin.once('end', () => finished());
  if (opening?.ended) finished(); // stdin closed before a whole first message
  process.once('SIGTERM', () => finished());
  process.once('SIGINT', () => finished());
  await done;
  await stop('stdin closed');
  process.exit(0);
}
