import type { CommandSpec } from './framing.js';
import type { OfflineReason } from './liveness.js';
import type { CappedOutput } from './output-cap.js';
import type { StoredLiveness } from './registry.js';
import type { TransferItem, TransferOutcome } from './transfer-paths.js';

/** A foreground command's result on one member. */
export interface CommandOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Bytes dropped from the middle of each stream (members.outputLimit). */
  truncated?: { stdout: number; stderr: number };
  /** The command overran timeout_s (or its caller went away) and was stopped. */
  stopped?: 'timeout' | 'cancelled';
}

/** What list_members and member_detail show about a member's connection now. */
export interface RuntimeState {
  state: StoredLiveness['state'];
  reason?: OfflineReason;
  since?: string;
  lastError?: string;
  connecting?: boolean;
  nextAttemptAt?: string;
  connectedAt?: string;
  hostKey?: { type: string; fingerprint: string; firstUse: boolean };
  channels?: { open: number; capacity: number; shells: number; busy: number; queued: number };
}

/**
 * Output of a foreground command as it comes, before it is collected and capped. `held` bytes
 * are not output yet: a framed shell holds back what may begin its end marker (a newline first).
 */
export type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer, held?: boolean) => void;

/** How a foreground command runs: its time, its cancel signal and who watches its output live. */
export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput?: OutputListener;
}

/** A long-lived command on a member (a watcher): its stdout as it comes, and its end. */
export interface MemberStream {
  close(): void;
}

/** Callbacks of a stream: stdout chunks, then one call when it ends (or the link drops). */
export interface StreamHandlers {
  onData: (chunk: Buffer) => void;
  onClose: () => void;
}

/** A registered member, live: runs commands and moves files, over SSH or on this machine. */
export interface MemberRuntime {
  readonly name: string;
  start(): void;
  /** Settles once the first connection attempt is over (whatever its outcome). */
  settled(): Promise<void>;
  run(spec: CommandSpec, opts: RunOptions): Promise<CommandOutcome>;
  /** Copies local files/folders to the member (`onProgress`: bytes done of the total, as they move). */
  send(items: TransferItem[], onProgress?: (done: number, total: number) => void): Promise<TransferOutcome>;
  /** Copies member files/folders here. */
  fetch(items: TransferItem[], onProgress?: (done: number, total: number) => void): Promise<TransferOutcome>;
  /** Starts a long-lived command with its own channel (held until it ends); stdin is empty. */
  openStream(command: string, handlers: StreamHandlers): Promise<MemberStream>;
  /** The last `bytes` of each file ('' when missing), read without starting a process on the member. */
  readTails(paths: string[], bytes: number): Promise<string[]>;
  state(): RuntimeState;
  stop(): void;
}

/** Turns collected output into a result, noting truncation only when it happened. */
export function toOutcome(r: { stdout: CappedOutput; stderr: CappedOutput; exitCode: number | null; stopped?: 'timeout' | 'cancelled' }, startedAt: number): CommandOutcome {
  const dropped = { stdout: Math.max(0, r.stdout.truncatedBytes), stderr: Math.max(0, r.stderr.truncatedBytes) };
  return {
    exitCode: r.exitCode,
    stdout: r.stdout.text(),
    stderr: r.stderr.text(),
    durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
    ...(dropped.stdout || dropped.stderr ? { truncated: dropped } : {}),
    ...(r.stopped ? { stopped: r.stopped } : {}),
  };
}
