import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember, startFleetd, textOf, waitForMemberEvent } from '../helpers/members.js';
import { makeKey, Sshd } from '../helpers/sshd.js';

describe('member authentication and host keys', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    sshd = await Sshd.start();
    ({ fleetd, mcp } = await startFleetd());
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('a key the member does not accept: member.offline with reason auth failed, and commands fail with it', { timeout: 60_000 }, async () => {
    const stranger = await makeKey(join(sshd.dir, 'stranger_ed25519'));
    const r = await mcp.call<{ member: { state: string; reason: string } }>('register_member', sshMember('wrong-key', sshd, { identity_file: stranger }));
    expect(r.member).toMatchObject({ state: 'offline', reason: 'auth failed' });
    const offline = await waitForMemberEvent(mcp, 'wrong-key', 'member.offline');
    expect(offline.level).toBe('error');
    expect(offline.data).toMatchObject({ reason: 'auth failed', previous: 'unknown' });
    expect(JSON.stringify(offline)).not.toContain('PRIVATE KEY');

    const run = await mcp.raw('execute_command', { member: 'wrong-key', command: 'true' });
    expect(run.isError).toBe(true);
    expect(textOf(run)).toMatch(/wrong-key.*offline \(auth failed\).*authentication failed/s);
  });

  it('a key file that is not a usable private key is refused at registration', { timeout: 30_000 }, async () => {
    const pub = await mcp.raw('register_member', sshMember('pub-key', sshd, { identity_file: `${sshd.userKey}.pub` }));
    expect(pub.isError).toBe(true);
    expect(textOf(pub)).toContain('holds a public key');
    const missing = await mcp.raw('register_member', sshMember('no-key', sshd, { identity_file: '/nonexistent/id' }));
    expect(textOf(missing)).toContain('cannot read identity file /nonexistent/id (no such file)');
    const relative = await mcp.raw('register_member', sshMember('rel-key', sshd, { identity_file: 'id_ed25519' }));
    expect(textOf(relative)).toContain('must be an absolute path');
  });

  it('a changed host key is refused with an error event, and accepted after update_member accept_new_host_key', { timeout: 60_000 }, async () => {
    const first = await mcp.call<{ member: { state: string } }>('register_member', sshMember('rekeyed', sshd));
    expect(first.member.state).toBe('online');
    const oldKey = await sshd.hostFingerprint();

    // The machine is "reinstalled": same address, new host key.
    await sshd.kill();
    await sshd.newHostKey();
    await sshd.start();
    const newKey = await sshd.hostFingerprint();
    expect(newKey).not.toBe(oldKey);

    const refused = await waitForMemberEvent(mcp, 'rekeyed', 'member.offline', { pred: (e) => (e.data as { reason: string }).reason === 'host key mismatch' });
    expect(refused.level).toBe('error');
    expect(refused.message).toContain(`expected ssh-ed25519 ${oldKey}, got ssh-ed25519 ${newKey}`);
    expect(refused.data).toMatchObject({ expectedFingerprint: oldKey, presentedFingerprint: newKey });

    const run = await mcp.raw('execute_command', { member: 'rekeyed', command: 'true' });
    expect(run.isError).toBe(true);
    expect(textOf(run)).toContain('host key mismatch');
    const detail = await mcp.call<{ member: { hostKey: { fingerprint: string }; refusedHostKey: { fingerprint: string } } }>('member_detail', { name: 'rekeyed' });
    expect(detail.member.hostKey.fingerprint).toBe(oldKey);
    expect(detail.member.refusedHostKey.fingerprint).toBe(newKey);

    const onlineBefore = (await waitForMemberEvent(mcp, 'rekeyed', 'member.online')).id;
    const updated = await mcp.call<{ member: { state: string }; changed: string[]; notes: string[] }>('update_member', { name: 'rekeyed', accept_new_host_key: true });
    expect(updated.changed).toEqual(['host_key']);
    expect(updated.notes.join(' ')).toContain(newKey);
    expect(updated.member.state).toBe('online');
    const back = await waitForMemberEvent(mcp, 'rekeyed', 'member.online', { count: 2 });
    expect(back.id).toBeGreaterThan(onlineBefore);
    expect(back.data).toMatchObject({ hostKey: newKey, hostKeyFirstUse: false }); // pinned by the accept, not trusted blindly
    const ok = await mcp.call<{ results: { stdout: string }[] }>('execute_command', { member: 'rekeyed', command: 'echo back' });
    expect(ok.results[0]!.stdout).toBe('back\n');
    const updatedEvent = await waitForMemberEvent(mcp, 'rekeyed', 'member.updated');
    expect(updatedEvent.data).toMatchObject({ changed: ['host_key'], hostKey: newKey });
  });

  it('authenticates through ssh-agent when asked, without any key file', { timeout: 60_000 }, async () => {
    const socket = join(sshd.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const agentFleetd = new FleetdProcess({ config: { members: FAST_MEMBERS }, env: { SSH_AUTH_SOCK: socket } });
    let client: McpTestClient | undefined;
    try {
      await promisify(execFile)('sh', ['-c', `until [ -S ${socket} ]; do sleep 0.05; done; ssh-add ${sshd.userKey}`], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      await agentFleetd.start();
      client = await McpTestClient.connect(agentFleetd);
      const r = await client.call<{ member: { state: string; useAgent: boolean; identityFile?: string } }>('register_member', { name: 'via-agent', host: '127.0.0.1', port: sshd.port, user: 'root', use_agent: true });
      expect(r.member).toMatchObject({ state: 'online', useAgent: true });
      expect(r.member.identityFile).toBeUndefined();
      const out = await client.call<{ results: { stdout: string }[] }>('execute_command', { member: 'via-agent', command: 'echo agent' });
      expect(out.results[0]!.stdout).toBe('agent\n');
    } finally {
      await client?.close().catch(() => undefined);
      await agentFleetd.dispose();
      agent.kill();
    }
  });
});
