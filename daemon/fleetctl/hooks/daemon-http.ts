import { request, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { isProcessAlive, readServerInfo, readToken } from '../../../shared/discovery.js';

/** Where the daemon is and the token to show it. */
export interface HookEndpoint {
  url: string;
  token: string;
}

/** Thrown when fleetd answers with an error body; the hook logs it. */
export class DaemonAnswer extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The running daemon (--url, FLEET_URL, else server.json with a live pid), or a reason why there is none. */
export function findDaemon(home: string, opts: { url?: string; tokenFile?: string }): HookEndpoint | string {
  let url = opts.url || process.env.FLEET_URL;
  if (!url) {
    const info = readServerInfo(home);
    if (!info) return `fleetd is not running on ${home} (no server.json)`;
    if (!isProcessAlive(info.pid)) return `fleetd is not running on ${home} (pid ${info.pid} is gone)`;
    url = info.url;
  }
  const token = opts.tokenFile !== undefined ? readFileSync(opts.tokenFile, 'utf8').trim() : readToken(home);
  if (!token) return `no token: ${home}/token is missing and FLEET_TOKEN is not set`;
  return { url: url.replace(/\/+$/, ''), token };
}

/**
 * GET a path of fleetd's with node:http (fetch would load undici, which costs a hook
 * tens of milliseconds at start). Resolves with the response once headers arrive.
 */
function get(ep: HookEndpoint, path: string, accept: string, signal: AbortSignal): Promise<IncomingMessage> {
  const u = new URL(path, `${ep.url}/`);
  if (u.protocol !== 'http:') return Promise.reject(new Error(`hooks talk to fleetd over http only; ${ep.url} is ${u.protocol}`));
  return new Promise((resolve, reject) => {
    const req = request(u, { method: 'GET', headers: { authorization: `Bearer ${ep.token}`, accept }, signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** GET path as JSON; a non-2xx answer rejects with its error code. */
export async function getJson<T>(ep: HookEndpoint, path: string, signal: AbortSignal): Promise<T> {
  const res = await get(ep, path, 'application/json', signal);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if ((res.statusCode ?? 0) >= 300) {
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new DaemonAnswer(res.statusCode ?? 0, err?.code, `GET ${path.split('?')[0]} answered ${res.statusCode}${err?.message ? `: ${err.message}` : ''}`);
  }
  return body as T;
}

/** GET path as an SSE stream; yields text chunks until the stream ends or the signal aborts. */
export async function* getStream(ep: HookEndpoint, path: string, signal: AbortSignal): AsyncGenerator<string> {
  const res = await get(ep, path, 'text/event-stream', signal);
  if ((res.statusCode ?? 0) >= 300) {
    res.resume();
    throw new DaemonAnswer(res.statusCode ?? 0, undefined, `GET ${path.split('?')[0]} answered ${res.statusCode}`);
  }
  res.setEncoding('utf8');
  for await (const chunk of res) yield chunk as string;
}
