import { classify, errorResponse, type Classified, type JsonRpcMessage } from './jsonrpc.js';
import { RPC } from './errors.js';

/** A line longer than this without a newline is dropped, so junk on stdin cannot eat memory. */
const MAX_LINE = 32 * 1024 * 1024;

/**
 * MCP's stdio transport: one JSON-RPC message per line on stdin and stdout. Input that is
 * not JSON gets a -32700 error, JSON that is not JSON-RPC a -32600 error, both written to
 * stdout; the wire keeps reading. Batches (dropped by MCP 2025-06-18) are taken apart.
 */
export class StdioWire {
  private buffer = '';
  private closed = false;
  private stdoutBroken = false;

  constructor(
    private readonly onMessage: (message: Exclude<Classified, { kind: 'invalid' }>) => void,
    private readonly onClose: (why: string) => void,
  ) {}

  /** Starts reading stdin; `onClose` runs once when it ends or stdout breaks. */
  start(): void {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => this.push(chunk));
    process.stdin.on('end', () => this.close('stdin closed'));
    process.stdin.on('error', (e) => this.close(`stdin failed: ${e.message}`));
    process.stdout.on('error', (e) => {
      this.stdoutBroken = true;
      this.close(`stdout failed: ${e.message}`);
    });
  }

  /** Writes one message as a line on stdout. */
  send(message: JsonRpcMessage): void {
    if (!this.stdoutBroken) process.stdout.write(`${JSON.stringify(message)}\n`);
  }

  /** Feeds raw stdin text; exposed for the relay's own use and for clarity in tests. */
  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl === -1) break;
      const line = this.buffer.slice(start, nl);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    if (this.buffer.length > MAX_LINE) {
      this.buffer = '';
      this.send(errorResponse(null, RPC.invalidRequest, `Invalid Request: a line on stdin exceeded ${MAX_LINE} bytes without a newline and was dropped`));
    }
  }

  private line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      this.send(errorResponse(null, RPC.parseError, `Parse error: stdin line is not valid JSON (${(e as Error).message}); send one JSON-RPC message per line`));
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) this.send(errorResponse(null, RPC.invalidRequest, 'Invalid Request: empty batch'));
      for (const item of value) this.dispatch(classify(item));
      return;
    }
    this.dispatch(classify(value));
  }

  private dispatch(c: Classified): void {
    if (c.kind === 'invalid') this.send(errorResponse(c.id, RPC.invalidRequest, `Invalid Request: ${c.reason}`));
    else this.onMessage(c);
  }

  private close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(why);
  }
}
