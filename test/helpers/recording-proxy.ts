import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One HTTP exchange as a client sent it to fleetd and fleetd answered. */
export interface Exchange {
  method: string;
  path: string;
  /** The JSON-RPC method of a POST body (or of its first message). */
  rpc?: string;
  /** The MCP-Protocol-Version header. */
  protocolVersion?: string;
  sessionId?: string;
  /** The `resourceSubscriptions` of a subscriptions/listen, as sent. */
  resourceSubscriptions?: unknown;
  status?: number;
}

/**
 * A pass-through HTTP proxy in front of fleetd that records what a real client sends (to tell
 * which MCP era it ends in and whether it opens the GET stream or a listen): the bytes go
 * through untouched, including streams.
 */
export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly upstream: () => string) {}

  /** Listens on a free loopback port. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const x: Exchange = { method: req.method ?? '', path: req.url ?? '', protocolVersion: header(req.headers['mcp-protocol-version']), sessionId: header(req.headers['mcp-session-id']) };
        try {
          const m = JSON.parse(body.toString()) as { method?: string; params?: { notifications?: { resourceSubscriptions?: unknown } } } | { method?: string }[];
          const first = Array.isArray(m) ? m[0] : m;
          x.rpc = first?.method;
          if (x.rpc === 'subscriptions/listen') x.resourceSubscriptions = (first as { params?: { notifications?: { resourceSubscriptions?: unknown } } }).params?.notifications?.resourceSubscriptions;
        } catch {
          // not JSON (a GET or DELETE has no body)
        }
        this.exchanges.push(x);
        const up = new URL(this.upstream());
        const out = request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: { ...req.headers, host: up.host } }, (answer) => {
          x.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.on('error', () => res.destroy());
        res.on('close', () => out.destroy());
        out.end(body);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The exchanges carrying JSON-RPC method `rpc`. */
  calls(rpc: string): Exchange[] {
    return this.exchanges.filter((x) => x.rpc === rpc);
  }

  /** GET /mcp requests: the 2025-11-25 standalone event stream. */
  get getStreams(): Exchange[] {
    return this.exchanges.filter((x) => x.method === 'GET' && x.path.startsWith('/mcp'));
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.exchanges.length = 0;
  }

  /** Stops listening and cuts open streams. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
