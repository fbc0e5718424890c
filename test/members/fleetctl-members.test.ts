import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetctl, type FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { startFleetd, waitForMemberEvent } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

describe('fleetctl members', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const ctl = (...args: string[]) => fleetctl(['--home', fleetd.home, 'members', ...args]);

  beforeAll(async () => {
    sshd = await Sshd.start();
    ({ fleetd, mcp } = await startFleetd());
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('add, list, show, update and remove a member, with the same events as the MCP tools', { timeout: 60_000 }, async () => {
    const none = await mcp.raw('execute_command', { members: 'all', command: 'true' });
    expect(none.isError).toBe(true);
    expect((none.content[0] as { text: string }).text).toBe('no members are registered yet; add one with register_member (or `fleetctl members add`)');
    const empty = await ctl('list');
    expect(empty).toMatchObject({ code: 0, stdout: 'no members yet; add one with `fleetctl members add NAME --host HOST`\n' });

    const add = await ctl('add', 'box', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', 'root', '-i', sshd.userKey);
    expect(add.stderr).toBe('');
    expect(add).toMatchObject({ code: 0, stdout: `added box (root@127.0.0.1:${sshd.port}): online\n` });
    await waitForMemberEvent(mcp, 'box', 'member.added');
    await waitForMemberEvent(mcp, 'box', 'member.online');
    expect((await ctl('add', 'here', '--local')).stdout).toBe('added here (this machine): online\n');

    const list = await ctl('list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+ADDRESS\s+SINCE$/);
    expect(list.stdout).toMatch(new RegExp(`^box\\s+online\\s+root@127\\.0\\.0\\.1:${sshd.port}\\s+\\d{4}-`, 'm'));
    expect(list.stdout).toMatch(/^here\s+online\s+this machine\s+/m);
    const json = JSON.parse((await ctl('list', '--json')).stdout) as { name: string; state: string; identityFile: string }[];
    expect(json.map((m) => [m.name, m.state])).toEqual([
      ['box', 'online'],
      ['here', 'online'],
    ]);
    expect(json[0]!.identityFile).toBe(sshd.userKey);

    const show = await ctl('show', 'box');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`fingerprint:   ${await sshd.hostFingerprint()}`);
    expect(show.stdout).toMatch(/^state:\s+online$/m);
    expect(show.stdout).not.toMatch(/PRIVATE KEY/);

    const update = await ctl('update', 'box', '--description', 'the test box');
    expect(update).toMatchObject({ code: 0, stdout: 'box: changed description; online\n' });
    await waitForMemberEvent(mcp, 'box', 'member.updated');

    const unknown = await ctl('show', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('fleetctl: no member named "nope"; known members: box, here\n');
    const bad = await ctl('add', 'box2');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('host is required for an ssh member');

    expect(await ctl('remove', 'box')).toMatchObject({ code: 0, stdout: 'removed box\n' });
    await waitForMemberEvent(mcp, 'box', 'member.removed');
    expect((await ctl('list')).stdout).not.toMatch(/^box/m);
    const status = await fleetctl(['--home', fleetd.home, 'status']);
    expect(status.stdout).toMatch(/members:\s+1 \(1 online, 0 offline\)/);
  });
});
