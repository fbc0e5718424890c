import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homePaths } from '../../../shared/home.js';

/** systemd unit name and launchd label of fleetd. */
export const UNIT_NAME = 'fleetd.service';
/** The socket unit of socket activation (`install --socket`): systemd holds the port, fleetd gets it as fd 3. */
export const SOCKET_UNIT_NAME = 'fleetd.socket';
export const LAUNCHD_LABEL = 'dev.fleet.fleetd';

/** Everything a service definition names: this installation's node and fleetd, the home, the files. */
export interface ServiceLayout {
  /** Absolute path of the node binary running fleetctl now. */
  node: string;
  /** Absolute path of this installation's dist/daemon/main.js. */
  entry: string;
  /** FLEET_HOME the service runs fleetd on. */
  home: string;
  /** Where the user's service definitions live (HOME of the user). */
  userHome: string;
  unitFile: string;
  /** fleetd.socket beside the unit (written only with --socket). */
  socketFile: string;
  plistFile: string;
  /** fleetd's stdout/stderr under launchd and the detached fallback. */
  logFile: string;
  /** The detached fallback's pid file. */
  pidFile: string;
  /** PATH the service starts with: node's folder first, so a local member's commands find node too. */
  path: string;
  /** SSH_AUTH_SOCK to pin in the definition, when the user asked for one. */
  agentSocket?: string;
  /** ListenStream= of fleetd.socket (host:port) when installed with socket activation. */
  listen?: string;
}

/** fleetd's entry point in this installation (fleetctl runs from dist/daemon/fleetctl/service/). */
export function fleetdEntry(): string {
  const p = fileURLToPath(new URL('../../main.js', import.meta.url));
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The layout for `home`, with HOME from the environment (tests point it at a temporary folder). */
export function serviceLayout(home: string, agentSocket?: string, listen?: string): ServiceLayout {
  const userHome = process.env.HOME || homedir();
  const paths = homePaths(home);
  const node = process.execPath;
  const path = [...new Set([dirname(node), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');
  return {
    node,
    entry: fleetdEntry(),
    home,
    userHome,
    unitFile: join(process.env.XDG_CONFIG_HOME || join(userHome, '.config'), 'systemd', 'user', UNIT_NAME),
    socketFile: join(process.env.XDG_CONFIG_HOME || join(userHome, '.config'), 'systemd', 'user', SOCKET_UNIT_NAME),
    plistFile: join(userHome, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
    logFile: join(paths.logs, 'fleetd.log'),
    pidFile: join(home, 'fleetd.pid'),
    path,
    ...(agentSocket ? { agentSocket } : {}),
    ...(listen ? { listen } : {}),
  };
}
