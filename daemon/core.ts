import { randomBytes } from 'node:crypto';
import { ensurePrivateDir, homePaths, readTextIfExists, writePrivateFile, type HomePaths } from '../shared/home.js';
import { VERSION } from '../shared/version.js';
import { readConfigFile, resolveConfig, type Config, type ConfigFlags } from './config.js';
import type { FleetContext, FleetPart } from './context.js';
import { EventBus } from './events/event-bus.js';
import { openFleetDb } from './db/open.js';
import { EventLog } from './events/event-log.js';
import { redactOutput } from './credentials/redacted-output.js';
import { Redactor } from './credentials/redactor.js';
import { assertHomeIsPrivate } from './home-check.js';
import { HomeLock } from './lock.js';
import { PART_FACTORIES } from './parts.js';
import { ServiceRegistry } from './services.js';

/** The daemon without its transport: home, lock, token, event log and parts. */
export interface Core {
  ctx: FleetContext;
  parts: FleetPart[];
  token: string;
  /** Stops the parts, commits what is pending, closes the log and releases the home. */
  close(): Promise<void>;
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

export interface CoreOptions {
  /** Command-line settings; they win over the environment and config.json. */
  flags?: ConfigFlags;
  /** Checks the resolved settings before anything is opened (e.g. whether the host may be listened on). */
  vetConfig?: (config: Config) => void;
}

/** Opens a home for one daemon: resolves its settings, takes its lock, opens fleet.db and starts every part. */
export async function openCore(home: string, opts: CoreOptions = {}): Promise<Core> {
  const paths = homePaths(home);
  assertHomeIsPrivate(paths);
  ensurePrivateDir(paths.home);
  const config = resolveConfig({ flags: opts.flags, env: process.env, file: readConfigFile(paths.config), source: paths.config });
  opts.vetConfig?.(config);
  const lock = new HomeLock(paths.lock, paths.home);
  await lock.acquire();
  let db: ReturnType<typeof openFleetDb> | undefined;
  let log: EventLog | undefined;
  const parts: FleetPart[] = [];
  const unredact: (() => void)[] = [];
  try {
    const token = loadOrCreateToken(paths);
    db = openFleetDb(paths.db);
    const redactor = new Redactor();
    // fleetd's own log lines (stderr) and stdout carry no stored value either, whatever path it took.
    unredact.push(redactOutput(process.stderr, redactor), redactOutput(process.stdout, redactor));
    log = new EventLog(db, { maxEvents: config.retention.maxEvents, maxAgeMs: config.retention.maxAge }, (e) => redactor.redactDeep(e));
    const eventLog = log;
    const bus = new EventBus();
    eventLog.onCommit((event, row) => bus.publish({ event, row }));
    const ageTimer = setInterval(() => {
      try {
        eventLog.trim();
      } catch (e) {
        console.error(`fleetd: retention trim failed (will retry): ${(e as Error).message}`);
      }
    }, 60_000);
    ageTimer.unref();
    const ctx: FleetContext = {
      config,
      paths,
      db,
      log: eventLog,
      bus,
      startedAt: Date.now(),
      url: () => '',
      liveSessions: new Set(),
      redactor,
      status: () => ({
        name: 'fleetd',
        version: VERSION,
        pid: process.pid,
        url: ctx.url(),
        home: paths.home,
        startedAt: new Date(ctx.startedAt).toISOString(),
        uptimeS: Math.round((Date.now() - ctx.startedAt) / 1000),
        lastEventId: eventLog.lastId,
        eventsStored: eventLog.count(),
        mcpSessions: ctx.liveSessions.size,
        ...Object.assign({}, ...parts.map((p) => p.status?.() ?? {})),
      }),
    };
    const services = new ServiceRegistry();
    for (const factory of PART_FACTORIES) {
      const part = await factory({ ctx, services });
      parts.push(part);
      if (part.provides) services.provide(part.name, part.provides);
    }
    const fleetDb = db;
    return {
      ctx,
      parts,
      token,
      close: async () => {
        clearInterval(ageTimer);
        for (const p of [...parts].reverse()) await p.stop?.();
        eventLog.close();
        fleetDb.close();
        await lock.release();
        for (const undo of unredact.reverse()) undo();
      },
    };
  } catch (e) {
    for (const p of parts.reverse()) await p.stop?.();
    log?.close();
    db?.close();
    await lock.release();
    for (const undo of unredact.reverse()) undo();
    throw e;
  }
}

