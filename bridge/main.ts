#!/usr/bin/env node
/**
 * fleet-bridge: stdio MCP <-> fleetd's /mcp. Start-up stays small: only node core, the
 * bridge's own modules and a few shared helpers load before the first answer.
 */
import { parseCli, type BridgeOptions } from './cli.js';
import { DaemonLocator } from './daemon-locator.js';
import { closeIdleSockets } from './http-client.js';
import { Log } from './log.js';
import { Relay } from './relay.js';
import { StdioWire } from './stdio-wire.js';

/** How long open requests may finish after stdin closes (a script that pipes and hangs up). */
const DRAIN_MS = 2000;

function run(opts: BridgeOptions): void {
  const log = new Log(opts.verbose);
  const locator = new DaemonLocator({ home: opts.home, url: opts.url, tokenFile: opts.tokenFile, autostart: opts.autostart, startTimeoutMs: opts.startTimeoutMs }, log);
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.debug(`${why}; ending the fleetd session`);
    const deadline = Date.now() + DRAIN_MS;
    while (relay.openRequests > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await relay.close();
    closeIdleSockets();
    process.exit(0);
  };
  const wire = new StdioWire((m) => relay.fromClient(m), (why) => void shutdown(why));
  const relay = new Relay(wire, locator, log, { channel: opts.channel, waitTimeoutMs: opts.waitTimeoutMs });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  wire.start();
  log.debug(`ready on stdio (home ${opts.home}${opts.url ? `, url ${opts.url}` : ''})`);
}

const opts = await parseCli(process.argv.slice(2));
if (opts) run(opts);
