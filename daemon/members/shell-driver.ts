import type { Client, ClientChannel } from 'ssh2';
import { CappedOutput } from './output-cap.js';
import { DETECT_RUNNER, FrameScanner, frameCommand, framePlain, newMarker, parseRunner, type CommandSpec, type GroupRunner } from './framing.js';

/** What one framed command produced. */
export interface RawRun {
  stdout: CappedOutput;
  stderr: CappedOutput;
  exitCode: number | null;
  /**
   * False when what the command left running could not be proven stopped: the driver must
   * be retired so that nothing of this command can reach the next one.
   */
  clean: boolean;
}

/** The driver's channel closed before the command's end marker arrived. */
export class DriverClosedError extends Error {
  constructor() {
    super('the shell channel closed before the command finished');
    this.name = 'DriverClosedError';
  }
}

interface Pending {
  stdout: FrameScanner;
  stderr: FrameScanner;
  out: CappedOutput;
  err: CappedOutput;
  resolve: (r: RawRun) => void;
  reject: (e: Error) => void;
}

/**
 * Opens a session channel running `command`; resolves once the server accepted it. A server
 * that never answers fails after `timeoutMs` (a channel that opens later is closed at once).
 * `attach` runs synchronously on the new channel: ssh2 may emit a fast command's `exit` in
 * the same parse pass as the open, before any awaiting code could listen.
 */
export function openExecChannel(client: Client, command: string, timeoutMs: number, attach?: (ch: ClientChannel) => void): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error(`the member did not open a channel within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    try {
      client.exec(command, (err, ch) => {
        clearTimeout(timer);
        if (late) return void (err ? undefined : ch.close());
        if (err) return reject(err);
        attach?.(ch);
        resolve(ch);
      });
    } catch (e) {
      clearTimeout(timer);
      reject(e as Error);
    }
  });
}

/**
 * One long-lived POSIX shell on its own SSH channel, running framed commands one at a time.
 * sshd sets up a new session (and the user's shell start-up files run) once per channel,
 * so a command written to an open driver costs about a millisecond instead of a session.
 */
export class ShellDriver {
  /** The driver shell's pid on the member: its children are the running command. */
  pid = 0;
  /** How commands get a process group of their own on this member. */
  runner: GroupRunner = 'none';
  closed = false;
  private pending: Pending | undefined;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(
    private readonly channel: ClientChannel,
    private readonly killGraceMs: number,
  ) {
    channel.on('data', (d: Buffer) => this.onStream(d, 'stdout'));
    channel.stderr.on('data', (d: Buffer) => this.onStream(d, 'stderr'));
    channel.on('close', () => this.onClose());
    // A write after the peer vanished surfaces here; the close that follows fails the command.
    channel.on('error', () => undefined);
  }

  /**
   * Opens a driver: `exec /bin/sh` under the user's login shell (so start-up files still
   * set PATH and friends, but the driver speaks POSIX sh whatever the login shell is),
   * then a first framed command that absorbs start-up noise and tells us the driver's pid
   * and how to give each command a process group. `killGraceMs` is how long a command's
   * leftovers get between SIGTERM and SIGKILL.
   */
  static async open(client: Client, timeoutMs: number, killGraceMs: number): Promise<ShellDriver> {
    const startedAt = Date.now();
    let driver!: ShellDriver;
    await openExecChannel(client, 'exec /bin/sh', timeoutMs, (ch) => (driver = new ShellDriver(ch, killGraceMs)));
    const left = Math.max(1, timeoutMs - (Date.now() - startedAt));
    let timer: NodeJS.Timeout | undefined;
    const hello = await Promise.race([
      driver.runFrame((marker) => framePlain(`echo "$$"; ${DETECT_RUNNER}`, marker), new CappedOutput(4096), new CappedOutput(4096)),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the member's shell did not start within ${Math.round(timeoutMs / 1000)} s`)), left))),
    ]).catch((e: Error) => {
      driver.destroy();
      throw e;
    }).finally(() => clearTimeout(timer));
    const said = /(\d+)\n(\w+)\n$/.exec(hello.stdout.text());
    const pid = Number(said?.[1]);
    if (hello.exitCode !== 0 || !Number.isInteger(pid) || pid <= 1) {
      driver.destroy();
      throw new Error(`the member's /bin/sh did not start as expected (exit ${hello.exitCode}: ${hello.stderr.text().trim().slice(0, 200)})`);
    }
    driver.pid = pid;
    driver.runner = parseRunner(said![2]!);
    return driver;
  }

  /** Registers a callback for when the channel closes. */
  onClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.closeListeners.push(fn);
  }

  /**
   * Runs one command, collecting into `out` and `err` (so a caller still has the output so
   * far when the channel dies); resolves at its end marker, rejects with DriverClosedError
   * if the channel goes first.
   */
  run(spec: CommandSpec, out: CappedOutput, err: CappedOutput): Promise<RawRun> {
    return this.runFrame((marker) => frameCommand(spec, marker, this.runner, this.killGraceMs), out, err);
  }

  private runFrame(frame: (marker: string) => string, out: CappedOutput, err: CappedOutput): Promise<RawRun> {
    if (this.closed) return Promise.reject(new DriverClosedError());
    if (this.pending) return Promise.reject(new Error('shell driver is busy'));
    const marker = newMarker();
    return new Promise<RawRun>((resolve, reject) => {
      this.pending = {
        out,
        err,
        stdout: new FrameScanner(marker, true, (b) => out.push(b), (b) => out.held(b)),
        stderr: new FrameScanner(marker, false, (b) => err.push(b), (b) => err.held(b)),
        resolve,
        reject,
      };
      this.channel.write(frame(marker));
    });
  }

  private onStream(chunk: Buffer, which: 'stdout' | 'stderr'): void {
    const p = this.pending;
    if (!p) return; // output after a command ended (a background job it left): nobody's
    p[which].push(chunk);
    if (p.stdout.done && p.stderr.done) {
      this.pending = undefined;
      const [rc, state] = p.stdout.trailer.trim().split(' ');
      const code = Number(rc);
      p.resolve({ stdout: p.out, stderr: p.err, exitCode: rc !== '' && Number.isInteger(code) ? code : null, clean: state === 'clean' });
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(new DriverClosedError());
    for (const fn of this.closeListeners.splice(0)) fn();
  }

  /** Closes the channel (the driver shell gets EOF and exits). */
  destroy(): void {
    try {
      this.channel.close();
    } catch {
      // already gone
    }
    this.onClose();
  }
}
