import type { Client, ClientChannel } from 'ssh2';
import type { ChannelSlots } from './channel-slots.js';
import { runOnExecChannel } from './exec-channel.js';
import { newMarker, runAndReap, shellQuote, type CommandSpec } from './framing.js';
import { CappedOutput } from './output-cap.js';
import { DriverClosedError, openExecChannel } from './shell-driver.js';
import { QueueTimeoutError, type PooledRun } from './shell-pool.js';
import type { RunOptions } from './runtime.js';
import { killTreeScript } from './tree-kill.js';

/**
 * Runs one long command on an SSH channel of its own, so it does not hold one of the few
 * pooled shells for minutes; a new session costs ~100 ms, nothing against a long run.
 * The wrapper first prints a random marker and its pid, so a timeout can stop the whole
 * process tree like a pooled command's; it runs the command in a process group of its own
 * and, when the command's shell exits, stops what it left running and exits too. The
 * command ends then: a channel still held open (by something that left the group) is closed.
 * Rejects with DriverClosedError when the channel ends without an exit status (connection lost).
 */
export async function runOnOwnChannel(
  client: Client,
  slots: ChannelSlots,
  spec: CommandSpec,
  opts: RunOptions & { outputLimit: number; killGraceMs: number; openTimeoutMs: number },
): Promise<PooledRun> {
  const marker = newMarker();
  const inner = `printf '%s %s\\n' '${marker}' "$$"; ${runAndReap(spec, opts.killGraceMs)}`;
  // The command's time covers waiting for a channel too.
  const startedAt = performance.now();
  const left = () => Math.max(1, opts.timeoutMs - (performance.now() - startedAt));
  if (!(await slots.acquireWithin(opts.timeoutMs))) throw new QueueTimeoutError(opts.timeoutMs);
  const stdout = new CappedOutput(opts.outputLimit, opts.onOutput && ((c, h) => opts.onOutput!('stdout', c, h)));
  const stderr = new CappedOutput(opts.outputLimit, opts.onOutput && ((c, h) => opts.onOutput!('stderr', c, h)));
  let pid = 0;
  let header = '';
  let exitCode: number | null | undefined;
  let stopped: PooledRun['stopped'];
  const attach = (ch: ClientChannel) => {
    ch.on('data', (d: Buffer) => {
      if (pid) return stdout.push(d);
      header += d.toString('latin1');
      const nl = header.indexOf('\n');
      if (nl < 0) return;
      pid = Number(new RegExp(`^${marker} (\\d+)$`).exec(header.slice(0, nl))?.[1] ?? -1);
      stdout.push(Buffer.from(header.slice(nl + 1), 'latin1'));
    });
    ch.stderr.on('data', (d: Buffer) => stderr.push(d));
    ch.on('exit', (code: number | null, signal?: string) => {
      exitCode = code ?? (signal ? null : exitCode);
      // The wrapper has exited after stopping the command's group: whatever still holds
      // the channel's output escaped it (setsid, a daemon) and is not this command's to wait for.
      setTimeout(() => {
        try {
          ch.close();
        } catch {
          // closed already
        }
      }, opts.killGraceMs).unref();
    });
    ch.on('error', () => undefined);
    ch.on('close', () => markClosed());
  };
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  let channel: ClientChannel;
  try {
    channel = await openExecChannel(client, `exec /bin/sh -c ${shellQuote(inner)}`, Math.min(opts.openTimeoutMs, left()), attach);
  } catch (e) {
    slots.release();
    throw e;
  }
  channel.end(); // stdin: empty

  const stop = async (why: 'timeout' | 'cancelled') => {
    if (stopped) return;
    stopped = why;
    const finished = () => Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), opts.killGraceMs).unref())]);
    for (const sig of ['TERM', 'KILL'] as const) {
      if (pid > 1) {
        // Not the wrapper itself: once the command's shell is gone it stops the rest of the group.
        const script = `${killTreeScript(pid, sig)}\ntrue`;
        const kill = runOnExecChannel(client, slots, script, { outputLimit: 4096, timeoutMs: opts.killGraceMs }).catch(() => undefined);
        await Promise.race([kill, new Promise((r) => setTimeout(r, opts.killGraceMs + opts.openTimeoutMs).unref())]);
      }
      if (await finished()) return;
    }
    channel.close();
  };
  const timer = setTimeout(() => void stop('timeout'), left());
  const onAbort = () => void stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    await closed;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    slots.release();
  }
  if (exitCode === undefined && !stopped) throw new DriverClosedError();
  return { stdout, stderr, exitCode: exitCode ?? null, ...(stopped ? { stopped } : {}) };
}
