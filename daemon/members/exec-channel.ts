import type { Client } from 'ssh2';
import type { ChannelSlots } from './channel-slots.js';
import { CappedOutput } from './output-cap.js';
import { openExecChannel } from './shell-driver.js';

/** What a command on its own exec channel produced. */
export interface ExecRun {
  stdout: CappedOutput;
  stderr: CappedOutput;
  exitCode: number | null;
  exitSignal?: string;
  timedOut: boolean;
}

/**
 * Runs a command on a channel of its own (a new sshd session: ~100 ms more than a pooled
 * shell, but nothing else waits behind it). For long work and for housekeeping such as
 * stopping a command that overran its time. A timeout or abort sends the session SIGKILL
 * and closes the channel.
 */
export async function runOnExecChannel(
  client: Client,
  slots: ChannelSlots,
  command: string,
  opts: { outputLimit: number; timeoutMs: number; signal?: AbortSignal },
): Promise<ExecRun> {
  await slots.acquire();
  try {
    const stdout = new CappedOutput(opts.outputLimit);
    const stderr = new CappedOutput(opts.outputLimit);
    let exitCode: number | null = null;
    let exitSignal: string | undefined;
    let timedOut = false;
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const channel = await openExecChannel(client, command, opts.timeoutMs, (ch) => {
      ch.on('data', (d: Buffer) => stdout.push(d));
      ch.stderr.on('data', (d: Buffer) => stderr.push(d));
      ch.on('exit', (code: number | null, sig?: string) => {
        exitCode = code ?? null;
        exitSignal = sig ?? undefined;
      });
      ch.on('error', () => undefined);
      ch.on('close', () => markClosed());
    });
    channel.end(); // no stdin
    const stop = () => {
      timedOut = true;
      try {
        channel.signal('KILL');
        channel.close();
      } catch {
        // the channel is already gone
      }
    };
    const timer = setTimeout(stop, opts.timeoutMs);
    opts.signal?.addEventListener('abort', stop, { once: true });
    await closed;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', stop);
    return { stdout, stderr, exitCode, ...(exitSignal ? { exitSignal } : {}), timedOut };
  } finally {
    slots.release();
  }
}
