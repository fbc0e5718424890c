import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './net.js';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

/** Makes an ed25519 key pair without a passphrase at `path` (and `path`.pub). */
export async function makeKey(path: string, comment = 'fleet-test'): Promise<string> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return path;
}

/** OpenSSH's SHA256 fingerprint of a public key file. */
export async function fingerprint(pubPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath]);
  return stdout.split(' ')[1]!;
}


/** Every process descending from `root` (sshd forks a process per connection and those fork sessions). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    let p = parent.get(pid);
    for (let hops = 0; p !== undefined && p > 1 && hops < 4096; hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
      p = parent.get(p);
    }
  }
  return out;
}

export interface SshdOptions {
  /** Address to listen on (default 127.0.0.1). */
  listen?: string;
  port?: number;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Extra sshd_config lines. */
  config?: string[];
  /** Extra environment for sessions (sshd's SetEnv). */
  env?: Record<string, string>;
  /** Accept passwords (checked against /etc/shadow: UsePAM stays off) as well as keys. */
  passwordAuth?: boolean;
}

/**
 * A real OpenSSH sshd for tests, with its own config, host key and authorized user key in
 * a temp folder (absolute paths; sshd refuses relative ones). Stays on one port across
 * kill/start so a member registered against it sees the same address come back.
 */
export class Sshd {
  readonly dir: string;
  readonly hostKey: string;
  /** The private key members use to log in (its .pub is authorized). */
  readonly userKey: string;
  readonly listen: string;
  port = 0;
  stderr = '';
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: SshdOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'fleet-sshd-'));
    this.hostKey = join(this.dir, 'host_ed25519');
    this.userKey = join(this.dir, 'user_ed25519');
    this.listen = opts.listen ?? '127.0.0.1';
  }

  /** Makes keys and config, then starts sshd and waits until it listens. */
  static async start(opts: SshdOptions = {}): Promise<Sshd> {
    const s = new Sshd(opts);
    await makeKey(s.hostKey, 'fleet-test-host');
    await makeKey(s.userKey, 'fleet-test-user');
    writeFileSync(join(s.dir, 'authorized_keys'), readFileSync(`${s.userKey}.pub`));
    s.port = opts.port ?? (await freePort());
    await s.start();
    return s;
  }

  /** `root@127.0.0.1:port`-style address of this server. */
  get address(): string {
    return `${this.listen}:${this.port}`;
  }

  /** The host key's fingerprint as OpenSSH prints it. */
  hostFingerprint(): Promise<string> {
    return fingerprint(`${this.hostKey}.pub`);
  }

  private writeConfig(): string {
    const path = join(this.dir, 'sshd_config');
    writeFileSync(
      path,
      [
        `Port ${this.port}`,
        `ListenAddress ${this.listen}`,
        `HostKey ${this.hostKey}`,
        'PidFile none',
        'StrictModes no',
        'UsePAM no',
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        // sshd keeps the first value it reads for a keyword, so this cannot come from `config`.
        `PasswordAuthentication ${this.opts.passwordAuth ? 'yes' : 'no'}`,
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        'UseDNS no',
        'MaxStartups 200',
        'LogLevel INFO',
        // Sessions skip the login user's ~/.bashrc: Debian's bash sources it for sshd sessions
        // only while SHLVL < 2. Tests log in as root, and a heavy or stateful rc (pyenv's rehash
        // takes a lock file) would slow them down, or, when a test kills sshd mid-start-up,
        // leave a stale lock that makes every later root login wait 60 s.
        `SetEnv SHLVL=1${Object.entries(this.opts.env ?? {})
          .map(([k, v]) => ` ${k}=${v}`)
          .join('')}`,
        ...(this.opts.config ?? []),
        '',
      ].join('\n'),
    );
    return path;
  }

  /** Starts sshd (again) on the same port; resolves once it says it is listening. */
  async start(): Promise<void> {
    mkdirSync('/run/sshd', { recursive: true });
    const config = this.writeConfig();
    const argv = [SSHD, '-D', '-e', '-f', config];
    const [cmd, ...args] = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv;
    this.stderr = '';
    const proc = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        this.stderr += d;
        if (/Server listening on/.test(this.stderr)) {
          resolve();
        }
      };
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`sshd exited with ${code} before listening: ${this.stderr}`)));
    });
  }

  /** True while the sshd listener runs. */
  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGKILL to sshd and every session under it: open connections die with it, like a crashed host. */
  async kill(): Promise<void> {
    if (!this.proc || !this.running) return;
    const pid = this.proc.pid!;
    // Find the sessions before the listener dies: once orphaned they no longer point back to it.
    const sessions = descendants(pid);
    this.proc.kill('SIGKILL');
    for (const p of sessions) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.exited;
  }

  /**
   * SIGSTOP (or SIGCONT) to sshd and its sessions: the TCP connections stay open but nothing
   * answers, so only keepalives can tell the link is dead.
   */
  freeze(on: boolean): void {
    if (!this.proc || !this.running) return;
    const pid = this.proc.pid!;
    for (const p of [pid, ...descendants(pid)]) {
      try {
        process.kill(p, on ? 'SIGSTOP' : 'SIGCONT');
      } catch {
        // already gone
      }
    }
  }

  /** Replaces the host key (sshd must be restarted to use it), as a reinstalled machine would. */
  async newHostKey(): Promise<void> {
    await makeKey(this.hostKey, 'fleet-test-host-2');
  }

  /** Kills sshd and deletes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
