import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'fleet-t-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces earlier test runs made and could not clean up (their process is gone). Only ours, by name. */
function sweepStale(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

let counter = 0;
const live = new Set<NetnsPair>();
// Namespaces outlive their creator: delete ours even when a test throws or the worker exits.
process.once('exit', () => {
  for (const pair of live) pair.disposeSync();
});

/**
 * Two network namespaces made by this test, joined by a veth pair on a private /30:
 * `client` (where fleetd runs) and `server` (where sshd runs). Nothing touches the
 * machine's own network. Taking the server end down is a real dead link: no RST, no
 * ICMP, packets just vanish.
 */
export class NetnsPair {
  readonly client: string;
  readonly server: string;
  readonly clientIp = '10.213.0.1';
  readonly serverIp = '10.213.0.2';

  private constructor(id: string) {
    this.client = `${PREFIX}${id}-c`;
    this.server = `${PREFIX}${id}-s`;
  }

  /** Creates both namespaces and the link between them, up. */
  static async create(): Promise<NetnsPair> {
    sweepStale();
    const pair = new NetnsPair(`${process.pid}-${counter++}`);
    live.add(pair);
    try {
      await run('ip', ['netns', 'add', pair.client]);
      await run('ip', ['netns', 'add', pair.server]);
      await run('ip', ['-n', pair.client, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', pair.server]);
      await run('ip', ['-n', pair.client, 'addr', 'add', `${pair.clientIp}/30`, 'dev', 'veth0']);
      await run('ip', ['-n', pair.server, 'addr', 'add', `${pair.serverIp}/30`, 'dev', 'veth1']);
      for (const ns of [pair.client, pair.server]) await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', pair.client, 'link', 'set', 'veth0', 'up']);
      await pair.link(true);
      return pair;
    } catch (e) {
      pair.disposeSync();
      throw e;
    }
  }

  /**
   * Takes the server's end of the link up or down (`ip link set veth1 up|down`). The
   * client's end stays configured, so its packets are sent and silently lost, as when a
   * far host loses its network.
   */
  async link(up: boolean): Promise<void> {
    await run('ip', ['-n', this.server, 'link', 'set', 'veth1', up ? 'up' : 'down']);
  }

  /** Deletes both namespaces (and so the veth pair). */
  disposeSync(): void {
    for (const ns of [this.client, this.server]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    live.delete(this);
  }
}
