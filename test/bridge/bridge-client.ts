import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BRIDGE } from '../helpers/fleetd.js';

export interface PushedEvent {
  id: number;
  topic: string;
  message: string;
  level: string;
  [k: string]: unknown;
}

export interface ChannelMessage {
  content: string;
  meta: Record<string, string>;
}

/** Resolves waiters whenever something arrives; `waitFor` awaits a condition without polling. */
class Arrivals {
  private waiters: (() => void)[] = [];

  notify(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  async waitFor(what: string, pred: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/** fleet-bridge as a real child process, driven by the SDK's stdio client. */
export class BridgeClient {
  readonly client = new Client({ name: 'bridge-test', version: '1.0.0' });
  readonly events: PushedEvent[] = [];
  readonly channel: ChannelMessage[] = [];
  stderr = '';
  private readonly arrivals = new Arrivals();

  private constructor(readonly transport: StdioClientTransport) {
    this.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if (n.params.logger === 'fleet') this.events.push(n.params.data as PushedEvent);
      this.arrivals.notify();
    });
    this.client.fallbackNotificationHandler = async (n) => {
      if (n.method === 'notifications/claude/channel') this.channel.push(n.params as unknown as ChannelMessage);
      this.arrivals.notify();
    };
    transport.stderr?.on('data', (d) => (this.stderr += d));
  }

  /** Spawns the bridge on `home` with extra args and connects (initialize) through it. */
  static async connect(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<BridgeClient> {
    const b = BridgeClient.spawn(home, args, env);
    await b.client.connect(b.transport);
    return b;
  }

  /** Spawns without connecting, so a test can watch connect fail. */
  static spawn(home: string, args: string[] = [], env: Record<string, string> = {}): BridgeClient {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BRIDGE, '--home', home, ...args],
      env: { FLEET_TOKEN: '', ...env },
      stderr: 'pipe',
    });
    return new BridgeClient(transport);
  }

  /** The bridge's pid (for checking it exits). */
  get pid(): number | null {
    return this.transport.pid;
  }

  /** Calls a tool; throws when it failed. */
  async call<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = (await this.client.callTool({ name, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${name} failed: ${(r.content[0] as { text: string }).text}`);
    return r.structuredContent as T;
  }

  /** Waits until the pushed fleet events satisfy `pred`. */
  waitForEvents(what: string, pred: (events: PushedEvent[]) => boolean, timeoutMs = 20_000): Promise<void> {
    return this.arrivals.waitFor(what, () => pred(this.events), timeoutMs, () => `got ids ${this.events.map((e) => e.id).join(',')}; stderr: ${this.stderr}`);
  }

  /** Waits until channel notifications satisfy `pred`. */
  waitForChannel(what: string, pred: (messages: ChannelMessage[]) => boolean, timeoutMs = 20_000): Promise<void> {
    return this.arrivals.waitFor(what, () => pred(this.channel), timeoutMs, () => `got ${this.channel.length} channel messages; stderr: ${this.stderr}`);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The bridge with raw stdio, for what the SDK client would never send. */
export class RawBridge {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private buffer = '';
  private readonly arrivals = new Arrivals();

  constructor(home: string, args: string[] = [], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [BRIDGE, '--home', home, ...args], { env: { PATH: process.env.PATH ?? '', FLEET_TOKEN: '', ...env } });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buffer += d;
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      this.arrivals.notify();
    });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  /** Writes raw text to the bridge's stdin. */
  write(text: string): void {
    this.proc.stdin.write(text);
  }

  /** Every stdout line, parsed (a line that is not JSON fails the parse, and so the test). */
  get messages(): Record<string, any>[] {
    return this.lines.map((l) => JSON.parse(l));
  }

  /** Waits for at least `n` lines on stdout and returns them parsed. */
  async waitForLines(n: number, timeoutMs = 15_000): Promise<Record<string, any>[]> {
    await this.arrivals.waitFor(`${n} stdout lines`, () => this.lines.length >= n, timeoutMs, () => `got ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
    return this.messages;
  }

  /** Waits for the answer with this id. */
  async answer(id: number | string, timeoutMs = 15_000): Promise<Record<string, any>> {
    await this.arrivals.waitFor(`answer ${id}`, () => this.messages.some((m) => m.id === id), timeoutMs, () => `got ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
    return this.messages.find((m) => m.id === id)!;
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** An initialize request line as a client would send it. */
export function initializeLine(id: number | string = 1): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`;
}
