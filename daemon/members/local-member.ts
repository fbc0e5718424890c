import { spawn } from 'node:child_process';
import { chmod, copyFile, lstat, mkdir, open, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { constants as os } from 'node:os';
import { FleetError } from '../errors.js';
import { sha256OfFile } from './checksums.js';
import { commandBody, type CommandSpec } from './framing.js';
import { Liveness, type Transition } from './liveness.js';
import { CappedOutput } from './output-cap.js';
import type { MemberRecord, StoredLiveness } from './registry.js';
import { toOutcome, type CommandOutcome, type MemberRuntime, type RunOptions, type MemberStream, type RuntimeState, type StreamHandlers } from './runtime.js';
import { intoFolder, MAX_TREE_DEPTH, memberPath, type TransferItem, type TransferOutcome } from './transfer-paths.js';
import { stopProcessGroup } from './tree-kill.js';

/** A member-side path of a local member: relative ones are under the home folder, like an SSH login. */
function onMember(p: string): string {
  const m = memberPath(p);
  return isAbsolute(m) ? m : join(homedir(), m);
}

/**
 * Copies a file or folder tree, hashing both copies of every file. The path named is followed;
 * inside a folder, symbolic links and special files are skipped (see SkippedEntry), as over SFTP.
 */
async function copyTree(from: string, to: string, out: TransferOutcome, depth = 0): Promise<void> {
  const st = await (depth === 0 ? stat(from) : lstat(from)).catch((e: NodeJS.ErrnoException) => {
    throw new FleetError('transfer_failed', `cannot read ${from}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  });
  if (st.isDirectory()) {
    if (depth >= MAX_TREE_DEPTH) throw new FleetError('transfer_failed', `${from} is more than ${MAX_TREE_DEPTH} folders deep; copy a folder further down`);
    for (const entry of (await readdir(from)).sort()) await copyTree(join(from, entry), join(to, entry), out, depth + 1);
    return;
  }
  if (!st.isFile()) {
    const reason = st.isSymbolicLink() ? 'symbolic link' : 'not a regular file or folder';
    if (depth === 0) throw new FleetError('transfer_failed', `cannot copy ${from}: it is ${reason === 'symbolic link' ? 'a broken symbolic link' : 'not a regular file or folder'}`);
    out.skipped.push({ path: from, reason });
    return;
  }
  try {
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to);
    await chmod(to, st.mode & 0o777);
  } catch (e) {
    throw new FleetError('transfer_failed', `cannot copy ${from} to ${to}: ${(e as Error).message}`);
  }
  const [a, b] = await Promise.all([sha256OfFile(from), sha256OfFile(to)]);
  out.files.push({ from, to, bytes: st.size, sha256: a, verified: a === b });
}

/**
 * The machine fleetd runs on, as a member without SSH: commands run under /bin/sh in their
 * own process group (so a timeout, or the end of the command, stops the whole tree), files
 * are plain copies.
 */
export class LocalMember implements MemberRuntime {
  private readonly liveness: Liveness;

  constructor(
    private readonly record: MemberRecord,
    stored: StoredLiveness,
    private readonly killGraceMs: number,
    private readonly outputLimit: number,
    private readonly onTransition: (t: Transition, m: LocalMember) => void,
  ) {
    this.liveness = new Liveness(stored);
  }

  get name(): string {
    return this.record.name;
  }

  start(): void {
    const t = this.liveness.up();
    if (t) this.onTransition(t, this);
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Runs a command under /bin/sh as the leader of its own process group. It ends when that
   * shell exits (or overruns timeout_s, or is cancelled: then the whole group is stopped);
   * whatever it left running is stopped too, and output still arriving after that is not waited for.
   */
  run(spec: CommandSpec, opts: RunOptions): Promise<CommandOutcome> {
    const startedAt = performance.now();
    const stdout = new CappedOutput(this.outputLimit, opts.onOutput && ((c, h) => opts.onOutput!('stdout', c, h)));
    const stderr = new CappedOutput(this.outputLimit, opts.onOutput && ((c, h) => opts.onOutput!('stderr', c, h)));
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', commandBody(spec)], { cwd: homedir(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const pgid = child.pid ?? 0;
      const grace = this.killGraceMs;
      let stopped: CommandOutcome['stopped'];
      const stop = (why: 'timeout' | 'cancelled') => {
        if (stopped) return;
        stopped = why;
        void stopProcessGroup(pgid, grace);
      };
      const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
      const onAbort = () => stop('cancelled');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      const done = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const streamsClosed = new Promise<void>((r) => child.once('close', () => r()));
      child.stdout.on('data', (d: Buffer) => stdout.push(d));
      child.stderr.on('data', (d: Buffer) => stderr.push(d));
      child.on('error', (e) => {
        done();
        reject(new FleetError('member_error', `cannot start /bin/sh on this machine: ${e.message}`, 500));
      });
      child.once('exit', (code, sig) => {
        done();
        void (async () => {
          await stopProcessGroup(pgid, grace);
          // Something that left the group (setsid, a daemon) may still hold the pipes.
          await Promise.race([streamsClosed, new Promise((r) => setTimeout(r, grace))]);
          child.stdout.destroy();
          child.stderr.destroy();
          // Like a shell's $?: 128 + signal number when a signal ended it.
          const exitCode = code ?? (sig ? 128 + (os.signals[sig] ?? 0) : null);
          resolve(toOutcome({ stdout, stderr, exitCode, ...(stopped ? { stopped } : {}) }, startedAt));
        })();
      });
    });
  }

  /** A long-lived /bin/sh command on this machine; ends when it exits or is closed. */
  async openStream(command: string, handlers: StreamHandlers): Promise<MemberStream> {
    const child = spawn('/bin/sh', ['-c', command], { cwd: homedir(), stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (d: Buffer) => handlers.onData(d));
    child.on('error', () => undefined);
    child.on('close', () => handlers.onClose());
    return { close: () => void child.kill('SIGTERM') };
  }

  async readTails(paths: string[], bytes: number): Promise<string[]> {
    return Promise.all(
      paths.map(async (p) => {
        const f = await open(isAbsolute(p) ? p : join(homedir(), p), 'r').catch(() => undefined);
        if (!f) return '';
        try {
          const { size } = await f.stat();
          const length = Math.min(bytes, size);
          const { bytesRead, buffer } = await f.read(Buffer.alloc(length), 0, length, size - length);
          return buffer.subarray(0, bytesRead).toString('utf8');
        } finally {
          await f.close();
        }
      }),
    );
  }

  async send(items: TransferItem[]): Promise<TransferOutcome> {
    const out: TransferOutcome = { files: [], skipped: [] };
    for (const item of items) await copyTree(item.source, onMember(intoFolder(item.destination, item.source, join)), out);
    return out;
  }

  async fetch(items: TransferItem[]): Promise<TransferOutcome> {
    const out: TransferOutcome = { files: [], skipped: [] };
    for (const item of items) {
      const from = onMember(item.source);
      await copyTree(from, intoFolder(item.destination, from, join), out);
    }
    return out;
  }

  state(): RuntimeState {
    return { state: this.liveness.state, ...(this.liveness.since ? { since: this.liveness.since } : {}) };
  }

  stop(): void {
    // Nothing is held open for the local machine.
  }
}
