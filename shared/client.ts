import { readFileSync } from 'node:fs';
import { Backoff } from './backoff.js';
import type { FleetEvent } from './events.js';
import type { ErrorBody } from './protocol.js';
import { isProcessAlive, readServerInfo, readToken } from './discovery.js';
import { SseParser } from './sse-parser.js';
import { resolveHome } from './home.js';

/** An error from talking to fleetd, with the daemon's error code when it sent one. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface Endpoint {
  url: string;
  token: string;
  /** Where the url came from when it was given (`--url`, `FLEET_URL`), for error messages. */
  given?: string;
}

/** How to find the daemon: explicit url/token, else FLEET_HOME's server.json and token. */
export interface DiscoverOptions {
  home: string;
  url?: string;
  tokenFile?: string;
}

/** What to tell a user whose daemon is not running, for their home. */
export function notRunningHint(home: string): string {
  const flag = home === resolveHome(undefined) ? '' : ` --home ${home}`;
  return `start it with \`fleetd${flag}\` (or \`systemctl --user start fleetd\`)`;
}

/** Finds the running daemon's url and token, or throws `not_running` with what to do. */
export function discover(opts: DiscoverOptions): Endpoint {
  const token = opts.tokenFile !== undefined ? readTokenFile(opts.tokenFile) : readToken(opts.home);
  const given = opts.url ? '--url' : process.env.FLEET_URL ? 'FLEET_URL' : undefined;
  let url = opts.url || process.env.FLEET_URL;
  if (!url) {
    const info = readServerInfo(opts.home);
    if (!info || !isProcessAlive(info.pid)) throw new ClientError(`fleetd is not running on ${opts.home}; ${notRunningHint(opts.home)}`, 'not_running');
    url = info.url;
  }
  if (!token) throw new ClientError(`no token: ${opts.home}/token is missing and FLEET_TOKEN is not set`, 'no_token');
  return { url: url.replace(/\/+$/, ''), token, ...(given ? { given } : {}) };
}

/** Reads `--token-file`; every failure names that file and says what is wrong with it. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (e as Error).message);
    throw new ClientError(`cannot read the token file ${file} (--token-file): ${why}`, 'bad_token_file');
  }
  if (!text) throw new ClientError(`the token file ${file} (--token-file) is empty; it should hold the bearer token from FLEET_HOME/token`, 'bad_token_file');
  return text;
}

/** A small HTTP client for fleetd's own (non-MCP) routes. */
export class DaemonClient {
  constructor(
    private readonly endpoint: () => Endpoint,
    private readonly home: string = resolveHome(undefined),
  ) {}

  /** Sends a request and returns the parsed JSON answer; daemon errors become ClientError. */
  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.send(method, path, body, headers);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ClientError(`fleetd answered ${res.status} with a body that is not JSON`, 'bad_response', res.status);
    }
    if (!res.ok) {
      const err = (json as Partial<ErrorBody> | undefined)?.error;
      throw new ClientError(err?.message ?? `fleetd answered ${res.status}`, err?.code ?? 'http_error', res.status);
    }
    return json as T;
  }

  /** Sends a request and returns the response while its body streams; an error answer becomes ClientError. */
  async stream(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await this.send(method, path, body, { accept: 'application/x-ndjson' });
    if (res.ok) return res;
    const err = ((await res.json().catch(() => undefined)) as Partial<ErrorBody> | undefined)?.error;
    throw new ClientError(err?.message ?? `fleetd answered ${res.status}`, err?.code ?? 'http_error', res.status);
  }

  /** One request to fleetd with the token; an unreachable daemon is `not_running` with what to do. */
  private async send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    const { url, token, given } = this.endpoint();
    try {
      return await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const hint = given ? `check ${given}, or start fleetd there` : notRunningHint(this.home);
      throw new ClientError(`fleetd is not reachable at ${url} (${causeOf(e)}); ${hint}`, 'not_running');
    }
  }

  /**
   * Follows GET /events, reconnecting with Last-Event-ID (re-reading where the daemon is
   * each time, since a restart may change its port) until the signal aborts.
   */
  async follow(opts: {
    since?: string;
    topics?: string[];
    signal: AbortSignal;
    onEvent: (e: FleetEvent) => void;
    onState?: (state: 'connected' | 'reconnecting', detail?: string) => void;
  }): Promise<void> {
    let lastId: string | undefined;
    // 250-500 ms doubling to 5-10 s between attempts while the daemon is away.
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000, jitter: 0.5 });
    while (!opts.signal.aborted) {
      try {
        const { url, token } = this.endpoint();
        const q = new URLSearchParams();
        if (lastId === undefined && opts.since !== undefined) q.set('since', opts.since);
        for (const t of opts.topics ?? []) q.append('topic', t);
        const res = await fetch(`${url}/events${q.size ? `?${q}` : ''}`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
          signal: opts.signal,
        });
        if (!res.ok || !res.body) {
          const err = ((await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined)?.error;
          // A 4xx is our request's fault (bad since, wrong token): retrying will not help.
          if (res.status >= 400 && res.status < 500) throw new ClientError(err?.message ?? `fleetd answered ${res.status}`, err?.code ?? 'http_error', res.status);
          throw new Error(`fleetd answered ${res.status}`);
        }
        opts.onState?.('connected');
        backoff.reset();
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const msg of parser.push(decoder.decode(chunk, { stream: true }))) {
            if (msg.id !== undefined) lastId = msg.id;
            if (msg.data) opts.onEvent(JSON.parse(msg.data) as FleetEvent);
          }
        }
        opts.onState?.('reconnecting', 'stream ended');
      } catch (e) {
        if (opts.signal.aborted) return;
        if (e instanceof ClientError && e.code !== 'not_running') throw e;
        opts.onState?.('reconnecting', e instanceof Error ? e.message : String(e));
      }
      await backoff.pause({ signal: opts.signal });
    }
  }
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
