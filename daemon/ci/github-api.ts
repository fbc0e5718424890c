/** An answer from GitHub's REST API: the parsed body, fresh or from the cache on a 304. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  /** True when GitHub said 304: nothing changed, no rate limit spent. */
  notModified: boolean;
}

/** Counts for GET /status and list_ci_watches. */
export interface ApiStats {
  requests: number;
  notModified: number;
  /** When polling may resume after a Retry-After or an exhausted rate limit (ISO), if paused. */
  pausedUntil?: string;
  rateLimitRemaining?: number;
}

/** Raised when GitHub asks us to wait: no request is sent before `untilMs`. */
export class ApiPaused extends Error {
  constructor(readonly untilMs: number) {
    super(`GitHub asked to wait until ${new Date(untilMs).toISOString()}`);
  }
}

const MAX_BODY = 8 * 1024 * 1024;
const MAX_CACHE = 500;
// Longest wait honoured from a header, so a bad clock or header cannot stop polling for days.
const MAX_PAUSE_MS = 2 * 3600_000;

/**
 * GitHub's REST API with conditional requests: each URL's ETag and body are kept, sent back as
 * If-None-Match, and a 304 (which costs no rate limit) returns the cached body. Retry-After and
 * an exhausted X-RateLimit-Remaining pause every request until the time GitHub gave.
 */
export class GitHubApi {
  private readonly cache = new Map<string, { etag: string; body: unknown }>();
  private pausedUntilMs = 0;
  readonly stats: ApiStats = { requests: 0, notModified: 0 };

  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | undefined,
    private readonly timeoutMs = 20_000,
  ) {}

  /** GET a path under the API base (e.g. /repos/o/r/commits/main/status). */
  async get(path: string): Promise<ApiAnswer> {
    const now = Date.now();
    if (now < this.pausedUntilMs) throw new ApiPaused(this.pausedUntilMs);
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    const cached = this.cache.get(url);
    const headers: Record<string, string> = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'fleetd' };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (cached) headers['if-none-match'] = cached.etag;
    this.stats.requests++;
    const res = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(this.timeoutMs) });
    this.noteLimits(res, now);
    if (res.status === 304 && cached) {
      this.stats.notModified++;
      await res.body?.cancel();
      return { status: 304, body: cached.body, notModified: true };
    }
    const text = await res.text();
    if (text.length > MAX_BODY) throw new Error(`GitHub answered ${url} with more than ${MAX_BODY} bytes`);
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if ((res.status === 403 || res.status === 429) && this.pausedUntilMs > now) throw new ApiPaused(this.pausedUntilMs);
    const etag = res.headers.get('etag');
    if (res.ok && etag) {
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url, { etag, body });
    }
    return { status: res.status, body, notModified: false };
  }

  /** Reads Retry-After and X-RateLimit-*: the next request waits until GitHub says. */
  private noteLimits(res: Response, now: number): void {
    const remaining = res.headers.get('x-ratelimit-remaining');
    if (remaining !== null && /^\d+$/.test(remaining)) this.stats.rateLimitRemaining = Number(remaining);
    let until = 0;
    const retryAfter = res.headers.get('retry-after');
    if (retryAfter !== null && (res.status === 403 || res.status === 429 || res.status === 503)) {
      const seconds = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : (Date.parse(retryAfter) - now) / 1000;
      if (Number.isFinite(seconds)) until = now + Math.max(1, seconds) * 1000;
    }
    const reset = res.headers.get('x-ratelimit-reset');
    if (remaining === '0' && reset !== null && /^\d+$/.test(reset)) until = Math.max(until, Number(reset) * 1000);
    if (until > now) {
      this.pausedUntilMs = Math.min(until, now + MAX_PAUSE_MS);
      this.stats.pausedUntil = new Date(this.pausedUntilMs).toISOString();
    }
  }

  /** True while GitHub's wait is running. */
  paused(now = Date.now()): boolean {
    return now < this.pausedUntilMs;
  }
}
