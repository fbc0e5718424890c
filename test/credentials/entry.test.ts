import { spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, fleetctl } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { secretSetOnTty, secretSetPiped, socketStore } from './helpers.js';

interface Requested {
  command: string;
  url: string;
  credential: { name: string; state: string };
}

describe('credentials: asking, entering out of band, being told', () => {
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
    mcp = await McpTestClient.connect(fleetd);
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
  });

  const storedEvent = (name: string) => (events: { topic: string; subject?: unknown }[]) => events.some((e) => e.topic === 'credential.stored' && e.subject === name);

  it('credential_store_set answers at once with the command and a one-time URL, and emits credential.requested', async () => {
    const r = await mcp.call<Requested>('credential_store_set', { name: 'e2e_bb_token', description: 'Bitbucket token', ttl: '1h' });
    expect(r.command).toBe('fleetctl secret set e2e_bb_token');
    expect(r.url).toMatch(new RegExp(`^${fleetd.url}/credentials/enter\\?code=[A-Za-z0-9_-]{32}$`));
    expect(r.url).not.toContain(fleetd.token);
    expect(r.credential).toMatchObject({ name: 'e2e_bb_token', state: 'requested' });
    await mcp.waitForPushed('credential.requested', (es) => es.some((e) => e.topic === 'credential.requested' && e.subject === 'e2e_bb_token'));
  });

  it('fleetctl secret set on a terminal reads with echo off; the client is told ✓ Secret stored as a notification and through wait_for_events', async () => {
    const { cursor } = await mcp.call<{ cursor: number }>('wait_for_events', { timeout_s: 0 });
    const value = 'tty-Secret-Value-93b1';
    const { code, screen } = await secretSetOnTty(fleetd.home, 'e2e_bb_token', value);
    expect(code, screen).toBe(0);
    expect(screen).toContain('✓ Secret stored: e2e_bb_token');
    expect(screen).not.toContain(value); // never echoed on the terminal
    await mcp.waitForPushed('credential.stored', storedEvent('e2e_bb_token'));
    const stored = mcp.pushed.find((e) => e.topic === 'credential.stored')!;
    expect(stored.message).toBe('✓ Secret stored: e2e_bb_token');
    expect(stored.session).toBeUndefined();
    const waited = await mcp.call<{ events: { topic: string; message: string }[] }>('wait_for_events', { since: cursor, topics: ['credential.*'], timeout_s: 10 });
    expect(waited.events.map((e) => [e.topic, e.message])).toEqual([['credential.stored', '✓ Secret stored: e2e_bb_token']]);
    const list = await mcp.call<{ credentials: { name: string; state: string; timeLeftS: number }[] }>('credential_store_list');
    expect(list.credentials).toEqual([expect.objectContaining({ name: 'e2e_bb_token', state: 'stored' })]);
    expect(list.credentials[0]!.timeLeftS).toBeGreaterThan(3500);
    expect(JSON.stringify(list)).not.toContain(value);
  });

  it('reads a piped value from stdin and refuses values under 6 characters without storing them', async () => {
    const ok = await secretSetPiped(fleetd.home, 'piped_one', 'piped-value-1234\n', ['--ttl', '90s']);
    expect(ok.code, ok.stderr).toBe(0);
    await mcp.waitForPushed('piped credential.stored', storedEvent('piped_one'));
    const short = await secretSetPiped(fleetd.home, 'too_short', 'abc\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 6 are needed/);
    expect(short.stderr).not.toContain('abc\n');
    const names = (await mcp.call<{ credentials: { name: string }[] }>('credential_store_list')).credentials.map((c) => c.name);
    expect(names).not.toContain('too_short');
  });

  it('keeps the socket, key and database private and refuses another uid at the socket', async () => {
    expect(statSync(fleetd.home).mode & 0o777).toBe(0o700);
    for (const f of ['auth.sock', 'vault.key', 'fleet.db']) expect(statSync(join(fleetd.home, f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(join(fleetd.home, 'auth.sock')).isSocket()).toBe(true);
    const py = `import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print('refused', e.errno)`;
    const sock = join(fleetd.home, 'auth.sock');
    const asNobody = () => spawnSync('python3', ['-c', py, sock], { uid: 65534, gid: 65534, encoding: 'utf8' }).stdout.trim();
    expect(asNobody()).toBe('refused 13'); // EACCES: the 0700 home stops it first
    // Node cannot check the peer's uid (SO_PEERCRED): each layer must refuse on its own.
    chmodSync(fleetd.home, 0o711);
    try {
      expect(asNobody()).toBe('refused 13'); // the socket's own 0600 refuses it too
      chmodSync(sock, 0o666);
      expect(asNobody()).toBe('connected'); // the probe really can connect where permissions allow
    } finally {
      chmodSync(sock, 0o600);
      chmodSync(fleetd.home, 0o700);
    }
    const mine = await socketStore(fleetd.home, { name: 'x', value: 'v' });
    expect(mine).toMatchObject({ error: { code: 'bad_credential' } });
  });

  it('fleetctl secret list and rm go through REST; rm emits credential.deleted', async () => {
    const list = await fleetctl(['--home', fleetd.home, 'secret', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/e2e_bb_token {2}stored {2}\d+s left {2}all members {2}Bitbucket token/);
    const rm = await fleetctl(['--home', fleetd.home, 'secret', 'rm', 'piped_one']);
    expect(rm.code, rm.stderr).toBe(0);
    await mcp.waitForPushed('credential.deleted', (es) => es.some((e) => e.topic === 'credential.deleted' && e.subject === 'piped_one'));
    const again = await fleetctl(['--home', fleetd.home, 'secret', 'rm', 'piped_one']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no credential named "piped_one"/);
    const unauth = await fetch(`${fleetd.url}/credentials`);
    expect(unauth.status).toBe(401);
  });

  it('the one-time page: strict CSP, no caching, Origin checked, the code works once', async () => {
    const r = await mcp.call<Requested>('credential_store_set', { name: 'page_secret', members: ['web-1'] });
    const get = await fetch(r.url);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(get.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(get.headers.get('cache-control')).toBe('no-store');
    const html = await get.text();
    expect(html).toContain('type="password"');
    expect(html).not.toContain('<script');
    const code = new URL(r.url).searchParams.get('code')!;
    const post = (origin: string | undefined, value: string, host?: string) =>
      fetch(`${fleetd.url}/credentials/enter`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}), ...(host ? { host } : {}) },
        body: new URLSearchParams({ code, value }).toString(),
        redirect: 'manual',
      });
    expect((await post(undefined, 'page-value-77')).status).toBe(403);
    expect((await post('http://evil.example', 'page-value-77')).status).toBe(403);
    // fetch drops a Host header, so the rebinding case goes through node:http.
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(r.url);
      request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: { host: `evil.example:${u.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    expect(rebound).toBe(403);
    const short = await post(fleetd.url, 'abc');
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('At least 6 characters');
    const stored = await post(fleetd.url, 'page-value-77');
    expect(stored.status).toBe(200);
    expect(await stored.text()).toContain('✓ Secret stored: page_secret');
    await mcp.waitForPushed('page credential.stored', storedEvent('page_secret'));
    expect(mcp.pushed.find((e) => e.topic === 'credential.stored' && e.subject === 'page_secret')!.data).toMatchObject({ via: 'page', members: ['web-1'] });
    expect((await post(fleetd.url, 'page-value-88')).status).toBe(410);
    expect((await fetch(r.url)).status).toBe(410);
    expect((await fetch(`${fleetd.url}/credentials/enter?code=${'A'.repeat(32)}`)).status).toBe(410);
  });

  it('credential_store_update changes scope and ttl (running from now); credential_store_delete erases it with credential.deleted', async () => {
    const before = await mcp.call<{ credential: { timeLeftS: number; members: unknown } }>('credential_store_update', { name: 'e2e_bb_token', ttl: '10m', members: ['web-1', 'web-2'] });
    expect(before.credential).toMatchObject({ members: ['web-1', 'web-2'], state: 'stored' });
    expect(before.credential.timeLeftS).toBeGreaterThan(590);
    expect(before.credential.timeLeftS).toBeLessThanOrEqual(600);
    const cleared = await mcp.call<{ credential: Record<string, unknown> }>('credential_store_update', { name: 'e2e_bb_token', ttl: null, members: null });
    expect(cleared.credential).toMatchObject({ members: 'all', state: 'stored' });
    expect(cleared.credential.timeLeftS).toBeUndefined();
    const bad = await mcp.raw('credential_store_update', { name: 'e2e_bb_token', ttl: 'soon' });
    expect(bad.isError).toBe(true);
    expect((bad.content[0] as { text: string }).text).toMatch(/bad ttl "soon": use seconds or a duration/);
    await mcp.call('credential_store_delete', { name: 'e2e_bb_token' });
    await mcp.waitForPushed('credential.deleted', (es) => es.some((e) => e.topic === 'credential.deleted' && e.subject === 'e2e_bb_token'));
    const names = (await mcp.call<{ credentials: { name: string }[] }>('credential_store_list')).credentials.map((c) => c.name);
    expect(names).not.toContain('e2e_bb_token');
  });
});
