import { ClientError, discover, type Endpoint } from '../shared/client.js';
import { BridgeError, RPC } from './errors.js';
import type { Log } from './log.js';

export type { Endpoint };

export interface LocatorOptions {
  home: string;
  url?: string;
  tokenFile?: string;
  /** Start fleetd on `home` when none runs. */
  autostart: boolean;
  /** How long an autostarted daemon may take to become healthy. */
  startTimeoutMs: number;
}

/**
 * Finds fleetd: --url/--token-file, else FLEET_HOME's server.json and token, read afresh
 * on every call because a restarted daemon may listen on another port. With --autostart
 * it starts one when none runs (one start at a time).
 */
export class DaemonLocator {
  private starting: Promise<void> | undefined;

  constructor(
    private readonly opts: LocatorOptions,
    private readonly log: Log,
  ) {}

  /** Where fleetd is now; throws BridgeError `not_running` (with what to do) or `rejected`. */
  async locate(): Promise<Endpoint> {
    try {
      return this.discover();
    } catch (e) {
      if (!(e instanceof BridgeError) || e.code !== 'not_running' || !this.opts.autostart || this.opts.url) throw e;
    }
    this.starting ??= import('./autostart.js')
      .then((m) => m.startFleetd(this.opts.home, this.log, this.opts.startTimeoutMs))
      .finally(() => (this.starting = undefined));
    await this.starting;
    return this.discover();
  }

  /** The message a client gets when no daemon runs. */
  get notRunningMessage(): string {
    const home = this.opts.home;
    return `fleetd is not running on ${home}; start it with \`fleetd --home ${home}\` (or \`systemctl --user start fleetd\`), or let fleet-bridge start it with --autostart`;
  }

  private discover(): Endpoint {
    try {
      return discover({ home: this.opts.home, url: this.opts.url, tokenFile: this.opts.tokenFile });
    } catch (e) {
      if (e instanceof ClientError && e.code === 'not_running') throw new BridgeError('not_running', this.notRunningMessage);
      if (e instanceof ClientError) throw new BridgeError('rejected', e.message, RPC.daemonRejected);
      throw e;
    }
  }
}
