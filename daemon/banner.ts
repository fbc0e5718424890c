import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface BannerInput {
  version: string;
  pid: number;
  url: string;
  port: number;
  home: string;
  tokenPath: string;
  /** What the port came from: a number asked for (flag, FLEET_PORT, config), or undefined for the default. */
  requestedPort: number | undefined;
  defaultPort: number;
}

/** Quotes a path for a POSIX shell when it needs it. */
function sh(path: string): string {
  return /^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * What fleetd prints when it listens: where, its home, and commands that work as printed:
 * they name --home unless the home is the default one (~/.fleet), and when the port is not
 * fixed (port 0, or the default was taken) they say the URL will change and offer the bridge,
 * which finds fleetd through server.json whatever its port.
 */
export function startupBanner(b: BannerInput): string {
  const defaultHome = resolve(join(homedir(), '.fleet'));
  const homeFlag = resolve(b.home) === defaultHome ? '' : ` --home ${sh(b.home)}`;
  const httpAdd = `claude mcp add --transport http fleet ${b.url}/mcp --header "Authorization: Bearer $(cat ${sh(b.tokenPath)})"`;
  const bridgeAdd = `claude mcp add fleet -- fleet-bridge --autostart${homeFlag}`;
  const lines = [`fleetd ${b.version} listening on ${b.url} (pid ${b.pid})`, `  home:        ${b.home}  (token: ${b.tokenPath})`, `  events:      fleetctl${homeFlag} events --follow`];
  const fixed = b.requestedPort === undefined ? b.port === b.defaultPort : b.requestedPort !== 0;
  if (fixed) {
    lines.push(`  Claude Code: ${httpAdd}`);
  } else {
    const why = b.requestedPort === 0 ? 'port 0 asks for any free port' : `port ${b.defaultPort} was taken`;
    lines.push(
      `  note:        port ${b.port} holds for this run only (${why}): a URL with it breaks at the next restart.`,
      `               Fix it with --port N (or "port" in config.json), or connect through the bridge, which follows the daemon:`,
      `  Claude Code: ${bridgeAdd}`,
      `  (this run):  ${httpAdd}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
