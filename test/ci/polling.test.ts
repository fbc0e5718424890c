import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { socketStore } from '../credentials/helpers.js';
import { GitHubStandin, run } from './github-standin.js';

const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);
const TOKEN = 'ghp_standin_token_123456';

let gh: GitHubStandin;
let d: FleetdProcess;
let c: McpTestClient;

type Ev = { id: number; topic: string; data: Record<string, unknown> };

async function ciEvents(): Promise<Ev[]> {
  const r = await d.fetch('/events?since=0&topic=ci.*&limit=1000', { headers: { accept: 'application/json' } });
  return ((await r.json()) as { events: Ev[] }).events;
}

/** Waits until the stand-in has answered `n` more requests on a path, so at least one more poll round happened. */
async function roundsPass(prefix: string, n: number): Promise<void> {
  const target = gh.count(prefix) + n;
  await until(`${n} more requests on ${prefix}`, () => gh.count(prefix) >= target || undefined, 20_000);
}

beforeAll(async () => {
  gh = await new GitHubStandin().start();
  gh.repos.set('octo-org/app', { default_branch: 'main', runs: [run('CI', SHA1, 'in_progress', null)], checkRuns: [], statuses: [] });
  d = await new FleetdProcess({ config: { ci: { apiUrl: gh.url, pollInterval: 0.2 } } }).start();
  await socketStore(d.home, { name: 'github_token', value: TOKEN });
  c = await McpTestClient.connect(d);
});

afterAll(async () => {
  await c?.client.close();
  await d?.dispose();
  await gh?.stop();
});

describe('watch_ci polls GitHub', () => {
  it('reports a flip on the API once, with the token from the vault, and spends 304s on unchanged answers', async () => {
    const r = await c.call<{ watch: { repo: string } }>('watch_ci', { repo: 'octo-org/app' });
    expect(r.watch.repo).toBe('octo-org/app');
    await roundsPass('/repos/octo-org/app/actions/runs', 3);
    expect(await ciEvents()).toEqual([]); // pending is no flip
    expect(gh.seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);

    gh.repos.get('octo-org/app')!.runs = [run('CI', SHA1, 'completed', 'success')];
    const pass = await until('ci.status success', async () => (await ciEvents()).find((e) => e.data.state === 'success'));
    expect(pass.data).toEqual({ repo: 'octo-org/app', branch: 'main', sha: SHA1, workflow: 'CI', state: 'success', conclusion: 'success', url: 'https://github.com/octo-org/app/actions/runs/1' });

    const runs304 = gh.count('/repos/octo-org/app/actions/runs', 304);
    const runs200 = gh.count('/repos/octo-org/app/actions/runs', 200);
    await roundsPass('/repos/octo-org/app/actions/runs', 5);
    expect(gh.count('/repos/octo-org/app/actions/runs', 200)).toBe(runs200);
    expect(gh.count('/repos/octo-org/app/actions/runs', 304)).toBeGreaterThanOrEqual(runs304 + 5);
    expect(gh.count('/repos/octo-org/app/commits/main/status', 304)).toBeGreaterThanOrEqual(5);
    expect(await ciEvents()).toHaveLength(1);

    gh.repos.get('octo-org/app')!.runs = [run('CI', SHA2, 'completed', 'failure', 2)];
    await until('ci.status failure', async () => (await ciEvents()).find((e) => e.data.state === 'failure'));
    await roundsPass('/repos/octo-org/app/actions/runs', 3);
    expect((await ciEvents()).map((e) => e.data.state)).toEqual(['success', 'failure']);

    const { watches } = await c.call<{ watches: { repo: string; states: { workflow: string; state: string }[] }[] }>('list_ci_watches');
    expect(watches).toMatchObject([{ repo: 'octo-org/app', states: [{ workflow: 'CI', state: 'failure' }] }]);
  });

  it('honours a 403 with Retry-After: no request before the time GitHub gave', async () => {
    await roundsPass('/repos/', 1);
    gh.retryAfterOnce = 2;
    const refused = await until('the 403', () => gh.seen.find((s) => s.status === 403));
    await until('a request after the wait', () => gh.seen.find((s) => s.at > refused.at) ?? undefined, 20_000);
    const next = gh.seen.find((s) => s.at > refused.at)!;
    expect(next.at - refused.at).toBeGreaterThanOrEqual(2000);
    const { watches } = await c.call<{ watches: { lastError?: string }[] }>('list_ci_watches');
    expect(watches).toHaveLength(1);
  });

  it('keeps watches and known states across a restart and reports a flip that happened while fleetd was down, once', async () => {
    await d.stop();
    gh.repos.get('octo-org/app')!.runs = [run('CI', SHA2, 'completed', 'success', 3)];
    await d.start();
    await until('the flip while down', async () => (await ciEvents()).filter((e) => e.data.state === 'success').length === 2 || undefined);
    await roundsPass('/repos/octo-org/app/actions/runs', 3);
    expect((await ciEvents()).map((e) => e.data.state)).toEqual(['success', 'failure', 'success']);

    // Nothing changed while down this time: no event on start.
    await d.stop();
    await d.start();
    await roundsPass('/repos/octo-org/app/actions/runs', 3);
    expect(await ciEvents()).toHaveLength(3);
  }, 120_000); // two daemon restarts

  it('unwatch_ci stops polling; a bad repo name is refused', async () => {
    const c2 = await McpTestClient.connect(d);
    try {
      await c2.call('unwatch_ci', { repo: 'octo-org/app' });
      const after = gh.seen.length;
      await c2.call('watch_ci', { repo: 'octo-org/other-marker', branch: 'main' }); // a poll round that must not touch octo-org/app
      await until('the marker poll', () => gh.seen.slice(after).some((s) => s.path.startsWith('/repos/octo-org/other-marker')) || undefined);
      await roundsPass('/repos/octo-org/other-marker/actions/runs', 2);
      expect(gh.seen.slice(after).filter((s) => s.path.startsWith('/repos/octo-org/app/'))).toEqual([]);
      const bad = await c2.raw('watch_ci', { repo: 'not a repo' });
      expect(bad.isError).toBe(true);
      expect((bad.content[0] as { text: string }).text).toContain('owner/name');
    } finally {
      await c2.client.close();
    }
  });
});
