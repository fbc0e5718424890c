import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetctl, type FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, startFleetd, textOf, waitForMemberEvent, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { secretSetPiped, socketStore } from './helpers.js';

const run = promisify(execFile);

/**
 * Offline members are probed again only every two minutes here, so a member that comes
 * back within seconds of `fleetctl secret set` proves the store woke it, not a retry timer.
 */
const SLOW_PROBE = { ...FAST_MEMBERS, reconnect: { initial: 0.2, max: 120 } };

interface MemberView {
  state: string;
  reason?: string;
  lastError?: string;
  passwordCredential?: string;
  passphraseCredential?: string;
}

async function echoOn(mcp: McpTestClient, member: string): Promise<MemberResult> {
  const r = await mcp.raw('execute_command', { member, command: 'echo "$(id -un) ok"' });
  expect(r.isError, textOf(r)).toBeFalsy();
  return (r.structuredContent as { results: MemberResult[] }).results[0]!;
}

describe('member SSH key passphrase from a credential (real sshd, encrypted key)', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let key: string;
  const passphrase = `pp-${randomBytes(10).toString('hex')}`;

  beforeAll(async () => {
    sshd = await Sshd.start();
    key = join(sshd.dir, 'encrypted_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'fleet-test-encrypted', '-f', key]);
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    ({ fleetd, mcp } = await startFleetd(SLOW_PROBE));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('registers with a credential not stored yet: offline with a clear reason naming it, online the moment it is stored', { timeout: 60_000 }, async () => {
    const reg = await mcp.call<{ member: MemberView }>('register_member', { name: 'locked', host: sshd.listen, port: sshd.port, user: 'root', identity_file: key, passphrase_credential: 'key_pass' });
    expect(reg.member).toMatchObject({ state: 'offline', reason: 'missing credential', passphraseCredential: 'key_pass' });
    expect(reg.member.lastError).toMatch(/member "locked" needs credential key_pass \(its key passphrase for .*encrypted_ed25519\): no credential named "key_pass"/);
    const offline = await waitForMemberEvent(mcp, 'locked', 'member.offline');
    expect(offline).toMatchObject({ level: 'error', data: { reason: 'missing credential', credential: 'key_pass' } });

    // A wrong passphrase: still offline, now because the key does not open with it.
    expect(await socketStore(fleetd.home, { name: 'key_pass', value: 'not-the-passphrase' })).toMatchObject({ ok: true });
    const wrong = await waitForMemberEvent(mcp, 'locked', 'member.offline', { count: 2 });
    expect(wrong.data).toMatchObject({ reason: 'bad identity' });
    expect(wrong.message).toMatch(/does not open with the passphrase in credential key_pass/);

    const storedAt = Date.now();
    expect(await socketStore(fleetd.home, { name: 'key_pass', value: passphrase })).toMatchObject({ ok: true });
    await waitForMemberEvent(mcp, 'locked', 'member.online', { timeoutMs: 20_000 });
    expect(Date.now() - storedAt).toBeLessThan(20_000); // far inside the 120 s probe: the store woke it
    expect((await echoOn(mcp, 'locked')).stdout).toBe('root ok\n');
  });

  it('an expired passphrase takes the member offline at its next connect, naming the credential; storing it again brings it back', { timeout: 60_000 }, async () => {
    expect(await socketStore(fleetd.home, { name: 'key_pass', value: passphrase, ttl: 2 })).toMatchObject({ ok: true });
    await mcp.waitForPushed('credential.expired', (es) => es.some((e) => e.topic === 'credential.expired' && e.subject === 'key_pass'), 15_000);
    // The live connection was made with the value and stays; the next one needs it.
    expect((await echoOn(mcp, 'locked')).stdout).toBe('root ok\n');
    const missing = (e: { data?: unknown }) => (e.data as { reason?: string }).reason === 'missing credential';
    const before = mcp.pushed.filter((e) => e.subject === 'locked' && e.topic === 'member.offline' && missing(e)).length;
    await sshd.kill();
    const offline = await waitForMemberEvent(mcp, 'locked', 'member.offline', { count: before + 1, pred: missing });
    expect(offline.message).toMatch(/needs credential key_pass .*expired and was erased/);
    const detail = await mcp.call<{ member: MemberView }>('member_detail', { name: 'locked' });
    expect(detail.member).toMatchObject({ state: 'offline', reason: 'missing credential' });

    await sshd.start();
    const onlineBefore = mcp.pushed.filter((e) => e.subject === 'locked' && e.topic === 'member.online').length;
    const r = await secretSetPiped(fleetd.home, 'key_pass', passphrase);
    expect(r.code, r.stderr).toBe(0);
    await waitForMemberEvent(mcp, 'locked', 'member.online', { count: onlineBefore + 1, timeoutMs: 20_000 });
    expect((await echoOn(mcp, 'locked')).stdout).toBe('root ok\n');
  });

  it('never shows the passphrase: not in events, tool results or fleetd stderr', async () => {
    const all = await mcp.call('wait_for_events', { since: 0, timeout_s: 1, limit: 1000 });
    const list = await mcp.call('list_members');
    for (const text of [JSON.stringify(mcp.pushed), JSON.stringify(all), JSON.stringify(list), fleetd.stderr]) expect(text).not.toContain(passphrase);
  });
});

describe('member SSH password from a credential (real sshd with PasswordAuthentication, UsePAM no)', () => {
  const user = `fltpw${randomBytes(3).toString('hex')}`;
  const password = `Pw-${randomBytes(10).toString('hex')}`;
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    await run('useradd', ['--create-home', '--shell', '/bin/sh', user]);
    await new Promise<void>((resolve, reject) => {
      const p = execFile('chpasswd', (e) => (e ? reject(e) : resolve()));
      p.stdin!.end(`${user}:${password}\n`);
    });
    sshd = await Sshd.start({ passwordAuth: true });
    ({ fleetd, mcp } = await startFleetd(SLOW_PROBE));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    await run('userdel', ['--remove', user]).catch(() => undefined);
  });

  it('logs in with the password once it is stored (fleetctl members add --password-credential), redacted everywhere', { timeout: 60_000 }, async () => {
    await mcp.call('credential_store_set', { name: 'pw_login', members: ['pw-box'] });
    const add = await fleetctl(['--home', fleetd.home, 'members', 'add', 'pw-box', '--host', sshd.listen, '--port', String(sshd.port), '--user', user, '--password-credential', 'pw_login', '--json']);
    expect(add.code, add.stderr).toBe(0);
    const member = JSON.parse(add.stdout) as MemberView;
    expect(member).toMatchObject({ state: 'offline', reason: 'missing credential', passwordCredential: 'pw_login' });
    expect(member.lastError).toMatch(/needs credential pw_login \(its SSH password\): credential pw_login has no value yet/);

    // A wrong password is an auth failure that names the credential.
    expect(await socketStore(fleetd.home, { name: 'pw_login', value: 'wrong-password' })).toMatchObject({ ok: true });
    const refused = await waitForMemberEvent(mcp, 'pw-box', 'member.offline', { pred: (e) => (e.data as { reason?: string }).reason === 'auth failed', timeoutMs: 20_000 });
    expect(refused.message).toMatch(/password in credential pw_login/);

    expect(await socketStore(fleetd.home, { name: 'pw_login', value: password })).toMatchObject({ ok: true });
    await waitForMemberEvent(mcp, 'pw-box', 'member.online', { timeoutMs: 20_000 });
    expect((await echoOn(mcp, 'pw-box')).stdout).toBe(`${user} ok\n`);
    const echoed = await mcp.raw('execute_command', { member: 'pw-box', command: 'echo "{{secure.pw_login}}"' });
    expect((echoed.structuredContent as { results: MemberResult[] }).results[0]!.stdout).toBe('[REDACTED:pw_login]\n');
    const all = await mcp.call('wait_for_events', { since: 0, timeout_s: 1, limit: 1000 });
    for (const text of [JSON.stringify(mcp.pushed), JSON.stringify(all), JSON.stringify(echoed), fleetd.stderr]) expect(text).not.toContain(password);
  });

  it('a credential scoped to other members is refused for the login, naming it', { timeout: 30_000 }, async () => {
    const r = await mcp.call<{ member: MemberView }>('register_member', { name: 'pw-other', host: sshd.listen, port: sshd.port, user, password_credential: 'pw_login' });
    expect(r.member).toMatchObject({ state: 'offline', reason: 'missing credential' });
    expect(r.member.lastError).toMatch(/credential pw_login may not be used on member pw-other/);
    expect(JSON.stringify(r)).not.toContain(password);
    // Widening the scope lets it in at once (well inside the 120 s probe).
    await mcp.call('credential_store_update', { name: 'pw_login', members: ['pw-box', 'pw-other'] });
    await waitForMemberEvent(mcp, 'pw-other', 'member.online', { timeoutMs: 20_000 });
    expect((await echoOn(mcp, 'pw-other')).stdout).toBe(`${user} ok\n`);
  });

  it('update_member moves a member from its password to a key and back to the password', { timeout: 30_000 }, async () => {
    const toKey = await mcp.call<{ member: MemberView; changed: string[] }>('update_member', { name: 'pw-other', user: 'root', identity_file: sshd.userKey, password_credential: null });
    expect(toKey.changed).toEqual(expect.arrayContaining(['user', 'password_credential', 'identity_file']));
    expect(toKey.member).toMatchObject({ state: 'online', identityFile: sshd.userKey });
    expect(toKey.member.passwordCredential).toBeUndefined();
    expect((await echoOn(mcp, 'pw-other')).stdout).toBe('root ok\n');
    const back = await mcp.call<{ member: MemberView }>('update_member', { name: 'pw-other', user, identity_file: null, use_agent: false, password_credential: 'pw_login' });
    expect(back.member).toMatchObject({ state: 'online', passwordCredential: 'pw_login' });
    expect((await echoOn(mcp, 'pw-other')).stdout).toBe(`${user} ok\n`);
  });
});

