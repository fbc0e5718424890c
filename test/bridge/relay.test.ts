import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { BridgeClient, RawBridge, initializeLine } from './bridge-client.js';

describe('fleet-bridge relays MCP between stdio and fleetd', () => {
  let fleetd: FleetdProcess;
  const open: { close(): Promise<void> }[] = [];
  const connect = async (args: string[] = []) => {
    const b = await BridgeClient.connect(fleetd.home, args);
    open.push(b);
    return b;
  };
  const mcpSessions = async () => ((await (await fleetd.fetch('/status')).json()) as { mcpSessions: number }).mcpSessions;

  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
  });
  afterAll(() => fleetd.dispose());

  it('answers initialize with fleetd\'s own server info and capabilities', async () => {
    const b = await connect();
    expect(b.client.getServerVersion()?.name).toBe('fleetd');
    expect(b.client.getServerCapabilities()?.logging).toEqual({});
    expect(b.client.getServerCapabilities()?.experimental?.['claude/channel']).toBeUndefined();
    expect(b.client.getInstructions()).toMatch(/wait_for_events/);
  });

  it('lists tools and calls them through the bridge', async () => {
    const b = await connect();
    const { tools } = await b.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['wait_for_events', 'list_events', 'publish_event', 'fleet_status']));
    const status = await b.call<{ version: string; mcpSessions: number }>('fleet_status');
    expect(status.mcpSessions).toBeGreaterThanOrEqual(1);
    const published = await b.call<{ event: { id: number; topic: string } }>('publish_event', { topic: 'bridge.test', message: 'via the bridge' });
    expect(published.event.topic).toBe('bridge.test');
    const listed = await b.call<{ events: { id: number }[] }>('list_events', { since: published.event.id - 1, topics: ['bridge.*'] });
    expect(listed.events.map((e) => e.id)).toEqual([published.event.id]);
  });

  it('a tool that fails comes back as an isError result, not a transport error', async () => {
    const b = await connect();
    const r = await b.client.callTool({ name: 'publish_event', arguments: { topic: 'member.online', message: 'reserved' } });
    expect(r.isError).toBe(true);
  });

  it('an event published over HTTP arrives as notifications/message, in order', async () => {
    const b = await connect();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fleetd.publish('bridge.push', `event ${i}`);
      ids.push(((await res.json()) as { id: number }).id);
    }
    await b.waitForEvents('five pushed events', (ev) => ids.every((id) => ev.some((e) => e.id === id)));
    const got = b.events.filter((e) => e.topic === 'bridge.push');
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(got[4]).toMatchObject({ message: 'event 4', level: 'info' });
  });

  it('--channel declares claude/channel and sends each event as notifications/claude/channel too', async () => {
    const b = await connect(['--channel']);
    expect(b.client.getServerCapabilities()?.experimental?.['claude/channel']).toEqual({});
    expect(b.client.getServerCapabilities()?.logging).toEqual({});
    expect(b.client.getInstructions()).toMatch(/<channel/);
    const res = await fleetd.publish('deploy.finished', '✓ deployed web-1', { subject: 'web-1', data: { build: 42 } });
    const event = (await res.json()) as { id: number; ts: string };
    await b.waitForChannel('the channel message', (m) => m.some((c) => c.meta.event_id === String(event.id)));
    const msg = b.channel.find((c) => c.meta.event_id === String(event.id))!;
    expect(msg.content).toBe('✓ deployed web-1\n{"build":42}');
    expect(msg.meta).toEqual({ event_id: String(event.id), topic: 'deploy.finished', level: 'info', ts: event.ts, subject: 'web-1' });
    for (const key of Object.keys(msg.meta)) expect(key).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    await b.waitForEvents('the same event as a log notification', (ev) => ev.some((e) => e.id === event.id));
  });

  it('closing stdin makes the bridge end its daemon session and exit 0', async () => {
    const before = await mcpSessions();
    const raw = new RawBridge(fleetd.home);
    try {
      raw.write(initializeLine(1));
      expect((await raw.answer(1)).result.serverInfo.name).toBe('fleetd');
      raw.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      expect(await mcpSessions()).toBe(before + 1);
      raw.proc.stdin.end();
      expect(await raw.exited).toBe(0);
      // The DELETE happened before the exit, so the session is already gone.
      expect(await mcpSessions()).toBe(before);
    } finally {
      raw.kill();
    }
  });

  it('SIGTERM also ends the daemon session before exiting', async () => {
    const before = await mcpSessions();
    const raw = new RawBridge(fleetd.home);
    try {
      raw.write(initializeLine(1));
      await raw.answer(1);
      await until('the session to be counted', async () => (await mcpSessions()) === before + 1);
      raw.proc.kill('SIGTERM');
      expect(await raw.exited).toBe(0);
      expect(await mcpSessions()).toBe(before);
    } finally {
      raw.kill();
    }
  });
});
