import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../daemon/ci/signature.js';
import { FleetdProcess, fleetctl } from '../helpers/fleetd.js';
import { checkRunPayload, statusPayload, workflowRunPayload } from './payloads.js';
import { rawPost } from './github-standin.js';

let d: FleetdProcess;
let secret = '';
const SHA1 = '1'.repeat(40);
const SHA2 = '2'.repeat(40);

/** A delivery signed as GitHub signs it; returns the status and parsed body. */
async function deliver(event: string, payload: unknown, opts: { id?: string; sign?: string; body?: string; host?: string } = {}) {
  const body = opts.body ?? JSON.stringify(payload);
  const r = await rawPost(d.url, '/webhooks/github', body, {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/abc1234',
    'x-github-event': event,
    'x-github-delivery': opts.id ?? randomUUID(),
    'x-hub-signature-256': opts.sign ?? signatureOf(secret, body),
    ...(opts.host ? { host: opts.host } : {}),
  });
  return { status: r.status, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
}

async function ciEvents(): Promise<{ id: number; topic: string; data: Record<string, unknown> }[]> {
  const r = await d.fetch('/events?since=0&topic=ci.*&limit=1000', { headers: { accept: 'application/json' } });
  return ((await r.json()) as { events: { id: number; topic: string; data: Record<string, unknown> }[] }).events;
}

beforeAll(async () => {
  d = await new FleetdProcess({ config: { webhookBodyLimit: 2 * 1024 * 1024 } }).start();
});

afterAll(async () => {
  await d?.dispose();
});

describe('POST /webhooks/github', () => {
  it('refuses deliveries until `fleetctl ci setup` has stored a secret, then prints what to enter on GitHub', async () => {
    expect((await deliver('workflow_run', workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'success' }), { sign: 'sha256=' + '0'.repeat(64) })).status).toBe(503);
    const setup = await fleetctl(['--home', d.home, 'ci', 'setup', '--public-url', 'https://hooks.example.net/', '--json']);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    const info = JSON.parse(setup.stdout) as { payloadUrl: string; secret: string; contentType: string; events: string[]; secretCredential: string };
    expect(info.payloadUrl).toBe('https://hooks.example.net/webhooks/github');
    expect(info.contentType).toBe('application/json');
    expect(info.events).toEqual(['Check runs', 'Check suites', 'Statuses', 'Workflow runs']);
    expect(info.secret).toMatch(/^[0-9a-f]{64}$/);
    secret = info.secret;
    const human = await fleetctl(['--home', d.home, 'ci', 'setup']);
    expect(human.stdout).toContain('Payload URL:   https://YOUR-TUNNEL/webhooks/github');
    secret = /Secret:\s+([0-9a-f]{64})/.exec(human.stdout)![1]!; // a new setup replaces the secret
    // The secret is a vault credential, listed by name only.
    const list = await fleetctl(['--home', d.home, 'secret', 'list', '--json']);
    expect(list.stdout).toContain('github_webhook_secret');
    expect(list.stdout).not.toContain(secret);
  });

  it('gives exactly one ci.status per flip, none for a repeat or for pending', async () => {
    const before = (await ciEvents()).length;
    expect((await deliver('workflow_run', workflowRunPayload({ sha: SHA1, status: 'in_progress', conclusion: null }))).body.events).toEqual([]);
    const pass = await deliver('workflow_run', workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'success' }));
    expect(pass.status).toBe(200);
    expect(pass.body.events).toHaveLength(1);
    // A redelivery under a new id, and the next commit passing too: repeats.
    expect((await deliver('workflow_run', workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'success' }))).body.events).toEqual([]);
    const fail = await deliver('workflow_run', workflowRunPayload({ sha: SHA2, status: 'completed', conclusion: 'failure' }));
    expect(fail.body.events).toHaveLength(1);
    expect((await deliver('workflow_run', workflowRunPayload({ sha: SHA2, status: 'completed', conclusion: 'failure' }))).body.events).toEqual([]);

    const events = (await ciEvents()).slice(before);
    expect(events.map((e) => e.topic)).toEqual(['ci.status', 'ci.status']);
    expect(events[0]!.data).toEqual({ repo: 'octo-org/app', branch: 'main', sha: SHA1, workflow: 'CI', state: 'success', conclusion: 'success', url: 'https://github.com/octo-org/app/actions/runs/30433642' });
    expect(events[1]!.data).toMatchObject({ sha: SHA2, state: 'failure', conclusion: 'failure' });
  });

  it('reads check_run and status deliveries; an Actions check run is left to its workflow run', async () => {
    const lint = await deliver('check_run', checkRunPayload({ sha: SHA1, status: 'completed', conclusion: 'failure' }));
    expect(lint.body.events).toHaveLength(1);
    expect((await deliver('check_run', checkRunPayload({ sha: SHA1, status: 'completed', conclusion: 'failure', app: 'github-actions', name: 'build' }))).body.events).toEqual([]);
    const status = await deliver('status', statusPayload({ sha: SHA1, state: 'error' }));
    expect(status.body.events).toHaveLength(1);
    const events = (await ciEvents()).filter((e) => (status.body.events as number[]).includes(e.id) || (lint.body.events as number[]).includes(e.id));
    expect(events.map((e) => [e.data.workflow, e.data.state, e.data.conclusion])).toEqual([
      ['lint', 'failure', 'failure'],
      ['ci/deploy-preview', 'failure', 'error'],
    ]);
  });

  it('answers a tampered body, a wrong secret and a missing signature with 401, and records nothing', async () => {
    const before = (await ciEvents()).length;
    const payload = workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'success', name: 'Deploy' });
    const body = JSON.stringify(payload);
    const tampered = body.replace('"success"', '"failure"');
    expect((await deliver('workflow_run', null, { body: tampered, sign: signatureOf(secret, body) })).status).toBe(401);
    expect((await deliver('workflow_run', null, { body, sign: signatureOf('not-the-secret', body) })).status).toBe(401);
    const unsigned = await rawPost(d.url, '/webhooks/github', body, { 'content-type': 'application/json', 'x-github-event': 'workflow_run', 'x-github-delivery': randomUUID() });
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.body).error.code).toBe('bad_signature');
    expect((await ciEvents()).length).toBe(before);
  });

  it('ignores a replayed delivery id', async () => {
    const at = '2026-03-02T08:00:00Z';
    const id = randomUUID();
    const green = statusPayload({ sha: SHA2, state: 'success', context: 'ci/e2e', updatedAt: at });
    expect((await deliver('status', green, { id })).body.events).toHaveLength(1);
    expect((await deliver('status', statusPayload({ sha: SHA2, state: 'failure', context: 'ci/e2e', updatedAt: at }))).body.events).toHaveLength(1);
    // Handled again, this old delivery would flip the state back to success.
    const replay = await deliver('status', green, { id });
    expect(replay.status).toBe(200);
    expect(replay.body.duplicate).toBe(id);
    const e2e = (await ciEvents()).filter((e) => e.data.workflow === 'ci/e2e');
    expect(e2e.map((e) => e.data.state)).toEqual(['success', 'failure']);
  });

  it('answers an unknown event type 202, ping 200, malformed payloads 400, and bodies over its own limit 413', async () => {
    expect((await deliver('push', { ref: 'refs/heads/main' })).status).toBe(202);
    expect((await deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).status).toBe(200);
    const notJson = await deliver('workflow_run', null, { body: '{"action": "completed", ' });
    expect(notJson.status).toBe(400);
    const wrongShape = await deliver('check_run', { action: 'completed', check_run: { name: 'lint' }, repository: { full_name: 'octo-org/app' } });
    expect(wrongShape.status).toBe(400);
    expect(JSON.stringify(wrongShape.body)).toContain('check_run.head_sha');
    // Its own limit (2 MiB here), not the 1 MiB of the other routes.
    const big = workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'failure', name: 'Big' }) as Record<string, unknown>;
    expect((await deliver('workflow_run', { ...big, padding: 'x'.repeat(1536 * 1024) })).status).toBe(200);
    expect((await deliver('workflow_run', { ...big, padding: 'x'.repeat(2100 * 1024) })).status).toBe(413);
  });

  it('is exempt from the Host guard and the bearer token, and no other route is', async () => {
    const r = await deliver('workflow_run', workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'success', name: 'Tunnel' }), { host: 'abc123.tunnel.example.org' });
    expect(r.status).toBe(200);
    expect(r.body.events).toHaveLength(1);
    const status = await rawPost(d.url, '/events', JSON.stringify({ topic: 'x.y', message: 'm' }), { host: 'abc123.tunnel.example.org', authorization: `Bearer ${d.token}`, 'content-type': 'application/json' });
    expect(status.status).toBe(403);
    const noToken = await rawPost(d.url, '/ci/watches', JSON.stringify({ repo: 'octo-org/app' }), { 'content-type': 'application/json' });
    expect(noToken.status).toBe(401);
  });

  it('remembers known states and seen deliveries across a restart', async () => {
    const id = randomUUID();
    const p = workflowRunPayload({ sha: SHA1, status: 'completed', conclusion: 'failure', name: 'Nightly' });
    expect((await deliver('workflow_run', p, { id })).body.events).toHaveLength(1);
    await d.stop();
    await d.start();
    expect((await deliver('workflow_run', p, { id })).body.duplicate).toBe(id);
    expect((await deliver('workflow_run', p)).body.events).toEqual([]);
    expect((await deliver('workflow_run', workflowRunPayload({ sha: SHA2, status: 'completed', conclusion: 'success', name: 'Nightly' }))).body.events).toHaveLength(1);
  });
});
