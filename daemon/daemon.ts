import { randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { ensurePrivateDir, homePaths, readTextIfExists, writePrivateFile, type HomePaths } from '../shared/home.js';
import type { ServerInfo } from '../shared/discovery.js';
import { VERSION } from '../shared/version.js';
import { loadConfig, type Config } from './config.js';
import { EventBus } from './events/event-bus.js';
import { EventLog } from './events/event-log.js';
import { createApp, type AppDeps, type RouteMount } from './http/app.js';
import { StreamRegistry } from './http/sse-stream.js';
import { HomeLock } from './lock.js';

export const DEFAULT_PORT = 7411;

export interface DaemonOptions {
  home: string;
  host?: string;
  /** Explicit port (flag or FLEET_PORT); 0 asks the OS. Unset means 7411 with fallback. */
  port?: number;
  mounts?: RouteMount[];
  log?: (line: string) => void;
}

/** A running fleetd: its parts and how to stop it. */
export interface Daemon {
  url: string;
  port: number;
  paths: HomePaths;
  config: Config;
  log: EventLog;
  bus: EventBus;
  token: string;
  /** Announces fleet.stopping, ends streams, flushes and releases the home. */
  stop(reason?: string): Promise<void>;
}

/** Reads the bearer token, making a new random one on first start. */
function loadOrCreateToken(paths: HomePaths): string {
  if (process.env.FLEET_TOKEN) return process.env.FLEET_TOKEN;
  const existing = readTextIfExists(paths.token);
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  writePrivateFile(paths.token, `${token}\n`);
  return token;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts fleetd on a home: lock, token, log, HTTP server, server.json, fleet.started. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const say = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const paths = homePaths(opts.home);
  ensurePrivateDir(paths.home);
  const config = loadConfig(paths.config);
  const host = opts.host ?? process.env.FLEET_HOST ?? config.host;
  const lock = new HomeLock(paths.lock, paths.home);
  lock.acquire();
  let log: EventLog | undefined;
  try {
    const token = loadOrCreateToken(paths);
    log = new EventLog(paths.db, { maxEvents: config.retention.maxEvents, maxAgeMs: config.retention.maxAge });
    const eventLog = log;
    const bus = new EventBus();
    eventLog.onCommit((event, row) => bus.publish({ event, row }));
    const streams = new StreamRegistry();
    const startedAt = Date.now();
    let url = '';
    const deps: AppDeps = {
      config: { ...config, host },
      token,
      home: paths.home,
      startedAt,
      log: eventLog,
      bus,
      streams,
      url: () => url,
      extraStatus: () => ({}),
    };
    const app = createApp(deps, opts.mounts);
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const explicitPort = opts.port ?? envPort() ?? config.port;
    let port: number;
    try {
      port = await listen(server, explicitPort ?? DEFAULT_PORT, host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || explicitPort !== undefined) throw e;
      say(`fleetd: port ${DEFAULT_PORT} is taken; listening on a free port instead (see ${paths.serverJson})`);
      port = await listen(server, 0, host);
    }
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const info: ServerInfo = { pid: process.pid, url, port, version: VERSION, startedAt: new Date(startedAt).toISOString(), home: paths.home };
    writePrivateFile(paths.serverJson, `${JSON.stringify(info, null, 2)}\n`);
    const ageTimer = setInterval(() => eventLog.trim(), 60_000);
    ageTimer.unref();
    await eventLog.append({ topic: 'fleet.started', level: 'info', message: `fleetd ${VERSION} started on ${url}`, data: { pid: process.pid, url, version: VERSION } });

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stop requested') =>
      (stopping ??= (async () => {
        clearInterval(ageTimer);
        await eventLog.append({ topic: 'fleet.stopping', level: 'info', message: `fleetd stopping: ${reason}`, data: { pid: process.pid, reason } }).catch(() => undefined);
        streams.endAll();
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
        eventLog.close();
        if (existsSync(paths.serverJson)) {
          try {
            unlinkSync(paths.serverJson);
          } catch {
            /* already gone */
          }
        }
        lock.release();
      })());
    return { url, port, paths, config: deps.config, log: eventLog, bus, token, stop };
  } catch (e) {
    log?.close();
    lock.release();
    throw e;
  }
}

function envPort(): number | undefined {
  const raw = process.env.FLEET_PORT;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`FLEET_PORT="${raw}" is not a port number (0-65535)`);
  return n;
}
