import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { BridgeClient } from './bridge-client.js';

async function publish(fleetd: FleetdProcess, topic: string, message: string): Promise<number> {
  const res = await fleetd.publish(topic, message);
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

/** A promise's outcome, caught at once so a rejection before the await is not "unhandled". */
function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('fleet-bridge across fleetd restarts', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });
  const setup = async (args: string[] = []) => {
    const fleetd = await new FleetdProcess().start();
    cleanup.push(() => fleetd.dispose());
    const bridge = await BridgeClient.connect(fleetd.home, ['--verbose', ...args]);
    cleanup.push(() => bridge.close());
    return { fleetd, bridge };
  };

  it('kill -9 mid-session: the next call succeeds and every event after the last one seen arrives exactly once, in order', async () => {
    const { fleetd, bridge } = await setup();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push(await publish(fleetd, 'outage.before', `before ${i}`));
    await bridge.waitForEvents('the events before the kill', (ev) => ev.some((e) => e.id === seen[2]));
    const lastSeen = Math.max(...bridge.events.map((e) => e.id));

    // Durable (201) but maybe not yet pushed when the daemon dies.
    const unseen = [await publish(fleetd, 'outage.racing', 'racing the kill 1'), await publish(fleetd, 'outage.racing', 'racing the kill 2')];
    await fleetd.kill9();

    // A call made while fleetd is down waits for it instead of failing.
    const during = settle(bridge.call<{ lastEventId: number }>('fleet_status'));
    await fleetd.start();
    // Published on the restarted daemon, most likely before the bridge found it again.
    const after: number[] = [];
    for (let i = 0; i < 3; i++) after.push(await publish(fleetd, 'outage.after', `after ${i}`));

    const answered = await during;
    expect(answered.error).toBeUndefined();
    expect(answered.value!.lastEventId).toBeGreaterThanOrEqual(unseen[1]!);
    const last = after[2]!;
    await bridge.waitForEvents('every event up to the last published after the restart', (ev) => ev.some((e) => e.id === last));

    // The truth: the daemon's log after the last event the client saw before the kill.
    const log = await bridge.call<{ events: { id: number }[] }>('list_events', { since: lastSeen, limit: 1000 });
    const expected = log.events.map((e) => e.id).filter((id) => id <= last);
    expect(expected).toEqual(expect.arrayContaining([...unseen, ...after]));
    const received = bridge.events.map((e) => e.id);
    expect(received.filter((id) => id > lastSeen && id <= last)).toEqual(expected);
    // No duplicates, no reordering, over the whole session.
    expect(received).toEqual([...new Set(received)].sort((a, b) => a - b));

    // And the new session is a working session: a second call, and live events.
    await bridge.call('fleet_status');
    const live = await publish(fleetd, 'outage.live', 'live again');
    await bridge.waitForEvents('a live event on the new session', (ev) => ev.some((e) => e.id === live));
  });

  it('a client reading with wait_for_events (ignoring pushes) misses nothing across a restart', async () => {
    const { fleetd, bridge } = await setup();
    type Waited = { events: { id: number }[]; cursor: number };
    const p1 = await publish(fleetd, 'reader.one', 'read by wait_for_events');
    const first = await bridge.call<Waited>('wait_for_events', { timeout_s: 10 });
    expect(first.events.map((e) => e.id)).toContain(p1);
    // Pushed to the client, but not yet read through wait_for_events: the session cursor lags.
    const p2 = await publish(fleetd, 'reader.two', 'pushed only');
    const p3 = await publish(fleetd, 'reader.three', 'pushed only');
    await bridge.waitForEvents('the pushes', (ev) => ev.some((e) => e.id === p3));
    await fleetd.kill9();
    await fleetd.start();
    const p4 = await publish(fleetd, 'reader.four', 'after the restart');
    const read: number[] = [];
    while (!read.includes(p4)) read.push(...(await bridge.call<Waited>('wait_for_events', { timeout_s: 10 })).events.map((e) => e.id));
    expect(read).toEqual(expect.arrayContaining([p2, p3, p4]));
    expect(read.every((id) => id > first.cursor)).toBe(true);
    expect(read).toEqual([...new Set(read)].sort((a, b) => a - b));
    // Resuming from the older cursor re-sends pushes the client has; none reaches it twice.
    const p5 = await publish(fleetd, 'reader.five', 'live');
    await bridge.waitForEvents('a live push', (ev) => ev.some((e) => e.id === p5));
    const pushed = bridge.events.map((e) => e.id);
    expect(pushed).toEqual([...new Set(pushed)].sort((a, b) => a - b));
  });

  it('survives a kill -9 and then a clean stop, and keeps the client\'s logging level', async () => {
    const { fleetd, bridge } = await setup();
    await bridge.client.setLoggingLevel('warning');
    for (let round = 0; round < 2; round++) {
      if (round === 0) await fleetd.kill9();
      else expect(await fleetd.stop()).toBe(0);
      await fleetd.start();
      const info = await publish(fleetd, 'level.check', `info ${round} (below the level)`);
      const warn = ((await (await fleetd.publish('level.check', `warning ${round}`, { level: 'warning' })).json()) as { id: number }).id;
      await bridge.waitForEvents(`the warning of round ${round}`, (ev) => ev.some((e) => e.id === warn));
      expect(bridge.events.some((e) => e.id === info)).toBe(false);
    }
    await bridge.call('fleet_status');
    expect(bridge.events.map((e) => e.level).every((l) => l === 'warning' || l === 'error')).toBe(true);
  });

  it('a request made while fleetd stays away fails after --wait-timeout with a clear error', async () => {
    const { fleetd, bridge } = await setup(['--wait-timeout', '2']);
    await fleetd.kill9();
    const started = Date.now();
    const { error: err } = await settle(bridge.call('fleet_status'));
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32030);
    expect((err as McpError).message).toMatch(/fleetd did not come back within 2 s: fleetd is not running on/);
    expect((err as McpError).message.match(/fleetd --home/g)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Once the daemon is back, the same bridge works again.
    await fleetd.start();
    await bridge.call('fleet_status');
  });

  it('a call in flight when fleetd dies fails with a clear error instead of hanging', async () => {
    const { fleetd, bridge } = await setup();
    const pending = settle(bridge.call('wait_for_events', { topics: ['never.*'], timeout_s: 40 }));
    // Answered calls are posted in order on connected sockets: once this later call is
    // answered, the wait's request has reached the daemon (a kill now resets, never refuses).
    await bridge.call('fleet_status');
    await fleetd.kill9();
    const { error: err } = await pending;
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32031);
    expect((err as McpError).message).toMatch(/went away while handling tools\/call.*may or may not have taken effect/s);
  });
});
