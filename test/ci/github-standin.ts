import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One workflow run as GET /repos/{owner}/{repo}/actions/runs lists it (GitHub's documented fields fleet reads, and a few more). */
export interface StandinRun {
  id: number;
  name: string;
  head_branch: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  html_url: string;
  updated_at: string;
  path: string;
}

/** A repository on the stand-in: its default branch and what CI shows for it. */
export interface StandinRepo {
  default_branch: string;
  runs: StandinRun[];
  checkRuns: Record<string, unknown>[];
  statuses: { state: string; context: string; target_url: string | null; updated_at: string }[];
}

export interface SeenRequest {
  at: number;
  path: string;
  status: number;
  authorization?: string;
}

/**
 * A local HTTP server on 127.0.0.1 that answers the REST routes fleet polls with GitHub's
 * documented shapes, ETags and 304s, and can be told to answer 403 with Retry-After.
 */
export class GitHubStandin {
  readonly repos = new Map<string, StandinRepo>();
  readonly seen: SeenRequest[] = [];
  private server!: Server;
  url = '';
  /** The next request gets 403 and this Retry-After (seconds). */
  retryAfterOnce: number | undefined;
  /** The next answer says the rate limit is spent until this time (epoch seconds). */
  exhaustedUntilOnce: number | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        this.seen.push({ at: Date.now(), path, status, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
        const limit = this.exhaustedUntilOnce === undefined ? { 'x-ratelimit-remaining': '4999' } : { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(this.exhaustedUntilOnce) };
        this.exhaustedUntilOnce = undefined;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-limit': '5000', ...limit, ...headers });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (this.retryAfterOnce !== undefined) {
        const s = this.retryAfterOnce;
        this.retryAfterOnce = undefined;
        return answer(403, { message: 'You have exceeded a secondary rate limit.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, { 'retry-after': String(s) });
      }
      const body = this.route(path);
      if (body === undefined) return answer(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      const etag = `W/"${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)}"`;
      if (req.headers['if-none-match'] === etag) return answer(304, undefined, { etag });
      answer(200, body, { etag });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private route(pathAndQuery: string): unknown {
    const u = new URL(pathAndQuery, 'http://x');
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(u.pathname);
    if (!m) return undefined;
    const full = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    const repo = this.repos.get(full);
    if (!repo) return undefined;
    const rest = m[3] ?? '';
    if (rest === '') return { id: 1, name: m[2], full_name: full, default_branch: repo.default_branch, html_url: `https://github.com/${full}` };
    if (rest === '/actions/runs') {
      const branch = u.searchParams.get('branch');
      const runs = repo.runs.filter((r) => !branch || r.head_branch === branch);
      return { total_count: runs.length, workflow_runs: runs };
    }
    const c = /^\/commits\/([^/]+)\/(check-runs|status)$/.exec(rest);
    if (c) {
      const ref = decodeURIComponent(c[1]!);
      const head = repo.runs.find((r) => r.head_branch === ref)?.head_sha ?? 'a'.repeat(40);
      if (c[2] === 'check-runs') return { total_count: repo.checkRuns.length, check_runs: repo.checkRuns };
      const state = repo.statuses.some((s) => s.state === 'failure' || s.state === 'error') ? 'failure' : repo.statuses.every((s) => s.state === 'success') ? 'success' : 'pending';
      return { state, sha: head, total_count: repo.statuses.length, statuses: repo.statuses.map((s, i) => ({ id: i + 1, ...s, description: null })) };
    }
    return undefined;
  }

  /** Requests seen on paths starting with `prefix`, optionally only those answered `status`. */
  count(prefix: string, status?: number): number {
    return this.seen.filter((s) => s.path.startsWith(prefix) && (status === undefined || s.status === status)).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A workflow run with GitHub's documented fields. */
export function run(name: string, sha: string, status: StandinRun['status'], conclusion: string | null, id = 1, branch = 'main'): StandinRun {
  return { id, name, head_branch: branch, head_sha: sha, status, conclusion, html_url: `https://github.com/octo-org/app/actions/runs/${id}`, updated_at: new Date().toISOString(), path: `.github/workflows/${name.toLowerCase()}.yml` };
}

/** A raw HTTP POST (node:http, so any Host header can be sent). */
export function rawPost(base: string, path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const u = new URL(path, base);
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'content-length': String(data.length), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
