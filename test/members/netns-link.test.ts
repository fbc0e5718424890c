import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEETD, tempHome } from '../helpers/fleetd.js';
import { FAST_MEMBERS, KEEPALIVE_WINDOW_MS, sshMember } from '../helpers/members.js';
import { NetnsPair } from '../helpers/netns.js';
import { Sshd } from '../helpers/sshd.js';

interface Pushed {
  id: number;
  topic: string;
  subject?: string;
  data?: { reason?: string; previous?: string };
}

/**
 * sshd in one network namespace, fleetd (over stdio, so the test needs no route into the
 * namespace) in another, joined by a veth pair. Taking the link down is a real dead link:
 * packets vanish, nothing is refused or reset.
 */
describe('member behind a network link that goes down', () => {
  let pair: NetnsPair;
  let sshd: Sshd;
  let client: Client;
  const home = tempHome();
  const pushed: Pushed[] = [];
  let notify = () => {};

  const waitFor = (what: string, pred: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${pushed.map((e) => e.topic).join(',')}`)), timeoutMs);
      notify = () => {
        if (pred()) {
          clearTimeout(t);
          resolve();
        }
      };
      notify();
    });
  const memberEvents = () => pushed.filter((e) => e.subject === 'remote' && (e.topic === 'member.online' || e.topic === 'member.offline'));

  beforeAll(async () => {
    pair = await NetnsPair.create();
    sshd = await Sshd.start({ netns: pair.server, listen: pair.serverIp, port: 2222 });
    writeFileSync(join(home, 'config.json'), JSON.stringify({ members: FAST_MEMBERS }), { mode: 0o600 });
    const transport = new StdioClientTransport({ command: 'ip', args: ['netns', 'exec', pair.client, process.execPath, FLEETD, '--transport', 'stdio', '--home', home], stderr: 'pipe' });
    client = new Client({ name: 'netns-test', version: '1' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      pushed.push(n.params.data as Pushed);
      notify();
    });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await sshd?.dispose();
    pair?.disposeSync();
    rmSync(home, { recursive: true, force: true });
  });

  it('shows the member offline (keepalive timeout) when the link goes down and online when it comes back, once each', { timeout: 90_000 }, async () => {
    const reg = (await client.callTool({ name: 'register_member', arguments: sshMember('remote', sshd) })) as CallToolResult;
    expect(reg.isError).toBeFalsy();
    expect(reg.structuredContent).toMatchObject({ member: { state: 'online', address: `root@${pair.serverIp}:2222` } });
    await waitFor('member.online', () => memberEvents().length === 1, 10_000);

    const downAt = Date.now();
    await pair.link(false);
    await waitFor('member.offline', () => memberEvents().length === 2, KEEPALIVE_WINDOW_MS + 5000);
    expect(Date.now() - downAt).toBeLessThan(KEEPALIVE_WINDOW_MS + 2000);
    expect(memberEvents()[1]).toMatchObject({ topic: 'member.offline', data: { reason: 'keepalive timeout', previous: 'online' } });

    // While the link is down, commands fail at once with why, instead of hanging.
    const down = (await client.callTool({ name: 'execute_command', arguments: { member: 'remote', command: 'true' } })) as CallToolResult;
    expect(down.isError).toBe(true);
    expect((down.content[0] as { text: string }).text).toContain('offline (keepalive timeout)');

    await pair.link(true);
    await waitFor('member.online again', () => memberEvents().length === 3, 20_000);
    expect(memberEvents().map((e) => e.topic)).toEqual(['member.online', 'member.offline', 'member.online']);
    const up = (await client.callTool({ name: 'execute_command', arguments: { member: 'remote', command: 'echo "$SSH_CONNECTION"' } })) as CallToolResult;
    expect(up.isError).toBeFalsy();
    expect((up.structuredContent as { results: { stdout: string }[] }).results[0]!.stdout).toMatch(new RegExp(`^${pair.clientIp} \\d+ ${pair.serverIp} 2222\\n$`));
    // Reconnect attempts while the link was down (connect timeouts) raised no further events.
    expect(memberEvents()).toHaveLength(3);
  });
});
