import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiPaused, GitHubApi } from '../../daemon/ci/github-api.js';
import { GitHubStandin, run } from './github-standin.js';

let gh: GitHubStandin;

beforeAll(async () => {
  gh = await new GitHubStandin().start();
  gh.repos.set('octo-org/app', { default_branch: 'main', runs: [run('CI', 'c'.repeat(40), 'completed', 'success')], checkRuns: [], statuses: [] });
});

afterAll(async () => {
  await gh?.stop();
});

describe('GitHubApi', () => {
  it('sends If-None-Match and returns the cached body on a 304', async () => {
    const api = new GitHubApi(gh.url, () => undefined);
    const first = await api.get('/repos/octo-org/app/actions/runs?branch=main');
    const second = await api.get('/repos/octo-org/app/actions/runs?branch=main');
    expect(first.status).toBe(200);
    expect(second).toEqual({ status: 304, body: first.body, notModified: true });
    expect(api.stats).toMatchObject({ requests: 2, notModified: 1 });
    expect(gh.seen.at(-1)!.authorization).toBeUndefined();
  });

  it('sends nothing while X-RateLimit-Remaining is 0, until X-RateLimit-Reset', async () => {
    const api = new GitHubApi(gh.url, () => 'tok_abcdef');
    const resetS = Math.ceil(Date.now() / 1000) + 2;
    gh.exhaustedUntilOnce = resetS;
    expect((await api.get('/repos/octo-org/app')).status).toBe(200);
    const sent = gh.seen.length;
    await expect(api.get('/repos/octo-org/app')).rejects.toBeInstanceOf(ApiPaused);
    expect(gh.seen.length).toBe(sent);
    expect(api.paused()).toBe(true);
    expect(Date.parse(api.stats.pausedUntil!)).toBe(resetS * 1000);
    expect(gh.seen.at(-1)!.authorization).toBe('Bearer tok_abcdef');
  });

  it('pauses on a 403 with Retry-After and says until when', async () => {
    const api = new GitHubApi(gh.url, () => undefined);
    gh.retryAfterOnce = 30;
    const before = Date.now();
    const err = await api.get('/repos/octo-org/app').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiPaused);
    expect((err as ApiPaused).untilMs).toBeGreaterThanOrEqual(before + 30_000);
    const sent = gh.seen.length;
    await expect(api.get('/repos/octo-org/app')).rejects.toBeInstanceOf(ApiPaused);
    expect(gh.seen.length).toBe(sent);
  });
});
