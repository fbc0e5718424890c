import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { eventsAbout, KEEPALIVE_WINDOW_MS, sshMember, startFleetd, textOf, waitForMemberEvent, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

/** Liveness events about a member after a given event id. */
function transitionsAfter(mcp: McpTestClient, member: string, afterId: number): string[] {
  return eventsAbout(mcp, member)
    .filter((e) => e.id > afterId && (e.topic === 'member.online' || e.topic === 'member.offline'))
    .map((e) => `${e.topic}:${(e.data as { reason?: string }).reason ?? ''}`);
}

/**
 * Watches for a while to prove nothing else happens (no flapping). The only way to show an
 * event does NOT come is to wait: we wait one keepalive window plus the reconnect backoff.
 */
const quietPeriod = () => new Promise((r) => setTimeout(r, KEEPALIVE_WINDOW_MS + 1500));

describe('member liveness', () => {
  let sshd: Sshd;
  let other: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    [sshd, other] = await Promise.all([Sshd.start(), Sshd.start()]);
    ({ fleetd, mcp } = await startFleetd());
    await mcp.call('register_member', sshMember('flaky', sshd));
    await mcp.call('register_member', sshMember('steady', other));
    await waitForMemberEvent(mcp, 'flaky', 'member.online');
    await waitForMemberEvent(mcp, 'steady', 'member.online');
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all([sshd?.dispose(), other?.dispose()]);
  });

  it('kill sshd: member.offline within the keepalive window; start it again: member.online; one transition each', { timeout: 60_000 }, async () => {
    const mark = mcp.pushed.at(-1)?.id ?? 0;
    const killedAt = Date.now();
    await sshd.kill();
    const offline = await waitForMemberEvent(mcp, 'flaky', 'member.offline', { timeoutMs: KEEPALIVE_WINDOW_MS + 2000 });
    expect(Date.now() - killedAt).toBeLessThan(KEEPALIVE_WINDOW_MS + 1000);
    // The immediate reconnect meets either a closed port or a listener dying under it.
    const reason = (offline.data as { reason: string }).reason;
    expect(['connection refused', 'connection lost']).toContain(reason);
    expect(offline.data).toMatchObject({ previous: 'online' });
    expect(offline.level).toBe('warning');

    const down = await mcp.raw('execute_command', { member: 'flaky', command: 'true' });
    expect(down.isError).toBe(true);
    expect(textOf(down)).toContain(`member "flaky" is offline (${reason})`);

    await sshd.start();
    await waitForMemberEvent(mcp, 'flaky', 'member.online', { count: 2, timeoutMs: 10_000 });
    await quietPeriod();
    expect(transitionsAfter(mcp, 'flaky', mark)).toEqual([`member.offline:${reason}`, 'member.online:']);
    expect(transitionsAfter(mcp, 'steady', mark)).toEqual([]);
    const r = await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'flaky', command: 'echo again' });
    expect(r.results[0]!.stdout).toBe('again\n');
  });

  it('a frozen sshd (no RST, no answers) goes offline by keepalive timeout, and online when it thaws', { timeout: 60_000 }, async () => {
    const mark = mcp.pushed.at(-1)?.id ?? 0;
    const frozenAt = Date.now();
    sshd.freeze(true);
    try {
      const offline = await waitForMemberEvent(mcp, 'flaky', 'member.offline', { pred: (e) => e.id > mark, timeoutMs: KEEPALIVE_WINDOW_MS + 5000 });
      const took = Date.now() - frozenAt;
      expect(offline.data).toMatchObject({ reason: 'keepalive timeout', previous: 'online' });
      expect(took).toBeGreaterThanOrEqual(KEEPALIVE_WINDOW_MS - 1100); // it waited for the keepalives, not a guess
      expect(took).toBeLessThan(KEEPALIVE_WINDOW_MS + 2000);
    } finally {
      sshd.freeze(false);
    }
    await waitForMemberEvent(mcp, 'flaky', 'member.online', { pred: (e) => e.id > mark, timeoutMs: 15_000 });
    await quietPeriod();
    expect(transitionsAfter(mcp, 'flaky', mark)).toEqual(['member.offline:keepalive timeout', 'member.online:']);
  });

  it('a hiccup shorter than the keepalive window produces no event at all', { timeout: 60_000 }, async () => {
    const mark = mcp.pushed.at(-1)?.id ?? 0;
    sshd.freeze(true);
    await new Promise((r) => setTimeout(r, KEEPALIVE_WINDOW_MS / 3)); // one keepalive goes unanswered
    sshd.freeze(false);
    const r = await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'flaky', command: 'echo still here' });
    expect(r.results[0]!.stdout).toBe('still here\n');
    await quietPeriod();
    expect(transitionsAfter(mcp, 'flaky', mark)).toEqual([]);
  });

  it('a daemon restart does not repeat a transition: a member still online stays silent', { timeout: 60_000 }, async () => {
    const before = await mcp.call<{ members: { name: string; state: string }[] }>('list_members');
    expect(before.members.map((m) => m.state)).toEqual(['online', 'online']);
    await mcp.close();
    await fleetd.stop();
    await fleetd.start();
    mcp = await McpTestClient.connect(fleetd);
    const r = await mcp.call<{ results: MemberResult[] }>('execute_command', { members: 'all', command: 'echo up' });
    expect(r.results.map((x) => x.stdout)).toEqual(['up\n', 'up\n']);
    const events = (await (await fleetd.fetch('/events?since=0&topic=member.*', { headers: { accept: 'application/json' } })).json()) as { events: { topic: string; subject: string }[] };
    const online = events.events.filter((e) => e.topic === 'member.online' && e.subject === 'steady');
    expect(online).toHaveLength(1); // from the first daemon; the second found it still online
  });
});
