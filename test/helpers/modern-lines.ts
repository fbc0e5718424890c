import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { envelope, MessageLog } from './modern-raw.js';

const SUBSCRIPTION_KEY = 'io.modelcontextprotocol/subscriptionId';

/** A JSON-RPC answer read from a line. */
export interface LineAnswer {
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * Hand-made MCP 2026-07-28 requests as stdio lines to a child process (`fleetd --transport
 * stdio`, or fleet-bridge), for what the SDK v2 client does not speak (the tasks extension).
 * Every line it writes carries the `_meta` envelope, declaring these extensions.
 */
export class ModernLines extends MessageLog {
  readonly proc: ChildProcessWithoutNullStreams;
  stderr = '';
  private buffer = '';
  private nextId = 1;

  constructor(
    command: string[],
    env: Record<string, string>,
    readonly extensions: Record<string, object> = {},
  ) {
    super();
    this.proc = spawn(process.execPath, command, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      const parts = (this.buffer + d).split('\n');
      this.buffer = parts.pop()!;
      this.arrived(parts.filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>));
    });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.proc.once('exit', () => this.arrived([], true));
  }

  private send(method: string, params: Record<string, unknown>, id: number | undefined, extensions: Record<string, object>): void {
    this.proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...(id !== undefined ? { id } : {}), method, params: { ...params, _meta: envelope(extensions) } })}\n`);
  }

  /** Sends one request (declaring `extensions`, by default this client's) and returns its answer. */
  async call(method: string, params: Record<string, unknown> = {}, extensions = this.extensions): Promise<LineAnswer> {
    const id = this.nextId++;
    this.send(method, params, id, extensions);
    return (await this.answerTo(id)) as LineAnswer;
  }

  /** The answer with this id, once it came. */
  async answerTo(id: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const find = () => this.messages.find((m) => m.id === id && !('method' in m));
    const deadline = Date.now() + timeoutMs;
    while (!find()) {
      if (this.ended) throw new Error(`exited before answering ${id}; stderr: ${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no answer to ${id}; stderr: ${this.stderr.slice(-2000)}`);
      await this.next(deadline - Date.now());
    }
    return find()!;
  }

  /** Opens a subscriptions/listen stream with this filter: its messages are those stamped with its id. */
  listen(notifications: Record<string, unknown>, extensions = this.extensions): LineListen {
    const id = this.nextId++;
    this.send('subscriptions/listen', { notifications }, id, extensions);
    return new LineListen(this, id, () => this.send('notifications/cancelled', { requestId: id, reason: 'done' }, undefined, extensions));
  }

  close(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** One listen stream on a ModernLines client. */
export class LineListen {
  constructor(
    private readonly lines: ModernLines,
    readonly id: number,
    readonly close: () => void,
  ) {}

  /** The params of this stream's notifications with this method. */
  notes(method: string): Record<string, unknown>[] {
    return this.lines.notes(method).filter((p) => (p._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_KEY] === this.id);
  }

  /** Waits until one of this stream's notifications with `method` matches `pred`. */
  waitFor(method: string, pred: (p: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return this.lines.waitFor(method, (p) => (p._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_KEY] === this.id && pred(p), timeoutMs);
  }
}
