import { existsSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { writePrivateFile } from '../shared/home.js';
import type { ServerInfo } from '../shared/discovery.js';
import { VERSION } from '../shared/version.js';
import type { ConfigFlags } from './config.js';
import type { FleetContext } from './context.js';
import { openCore } from './core.js';
import { createApp } from './http/app.js';
import { clientHost, vetListenHost } from './http/listen-host.js';
import { inheritedListenFd } from './http/socket-activation.js';
import { StreamRegistry } from './http/sse-stream.js';
import { McpService } from './mcp/service.js';

export const DEFAULT_PORT = 7411;

export interface DaemonOptions {
  home: string;
  /** Command-line settings (--host, --port); they win over FLEET_HOST/FLEET_PORT and config.json. */
  flags?: ConfigFlags;
  say?: (line: string) => void;
}

/** A running fleetd over HTTP and how to stop it. */
export interface Daemon {
  url: string;
  port: number;
  ctx: FleetContext;
  /** Announces fleet.stopping, ends streams and sessions, flushes and releases the home. */
  stop(reason?: string): Promise<void>;
}

function listen(server: Server, where: { port: number; host: string } | { fd: number }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    if ('fd' in where) server.listen({ fd: where.fd }, done);
    else server.listen(where.port, where.host, done);
  });
}

/** Starts fleetd over HTTP: core, MCP, routes, listening socket, server.json, fleet.started. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  let remoteWarning: string | undefined;
  const core = await openCore(opts.home, { flags: opts.flags, vetConfig: (config) => (remoteWarning = vetListenHost(config)) });
  if (remoteWarning) say(remoteWarning);
  const { ctx } = core;
  const paths = ctx.paths;
  try {
    const host = ctx.config.host;
    const streams = new StreamRegistry();
    const mcp = new McpService(ctx, core.parts);
    core.parts.push({ name: 'mcp', status: () => mcp.status() });
    const deps = { ctx, token: core.token, streams };
    const app = createApp(
      deps,
      [...core.parts.flatMap((p) => (p.routes ? [p.routes] : [])), (a) => mcp.mount(a)],
      core.parts.flatMap((p) => (p.publicRoutes ? [p.publicRoutes] : [])),
    );
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const explicitPort = ctx.config.port;
    // Socket activation (fleetd.socket): systemd holds the port, so clients wait through a restart.
    const inherited = inheritedListenFd();
    let address: AddressInfo;
    if (inherited !== undefined) {
      address = await listen(server, { fd: inherited });
      say(`fleetd: listening on the socket systemd passed (fd ${inherited}, ${address.address}:${address.port}); --host and --port do not apply`);
    } else {
      try {
        address = await listen(server, { port: explicitPort ?? DEFAULT_PORT, host });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || explicitPort !== undefined) throw e;
        say(`fleetd: port ${DEFAULT_PORT} is taken; listening on a free port instead (see ${paths.serverJson})`);
        address = await listen(server, { port: 0, host });
      }
    }
    const port = address.port;
    const url = `http://${clientHost(inherited !== undefined ? address.address : host)}:${port}`;
    ctx.url = () => url;
    const info: ServerInfo = { pid: process.pid, url, port, version: VERSION, startedAt: new Date(ctx.startedAt).toISOString(), home: paths.home };
    writePrivateFile(paths.serverJson, `${JSON.stringify(info, null, 2)}\n`);
    await ctx.log.append({ topic: 'fleet.started', level: 'info', message: `fleetd ${VERSION} started on ${url}`, data: { pid: process.pid, url, version: VERSION } });

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stop requested') =>
      (stopping ??= (async () => {
        await ctx.log.append({ topic: 'fleet.stopping', level: 'info', message: `fleetd stopping: ${reason}`, data: { pid: process.pid, reason } }).catch(() => undefined);
        streams.endAll();
        await mcp.closeAll();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.closeAllConnections();
            resolve();
          }, 2000);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        if (existsSync(paths.serverJson)) {
          try {
            unlinkSync(paths.serverJson);
          } catch {
            /* already gone */
          }
        }
        await core.close();
      })());
    return { url, port, ctx, stop };
  } catch (e) {
    await core.close();
    throw e;
  }
}
