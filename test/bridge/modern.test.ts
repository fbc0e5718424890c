import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterEach, describe, expect, it } from 'vitest';
import { BRIDGE, FleetdProcess } from '../helpers/fleetd.js';
import type { FleetEventLike } from '../helpers/mcp.js';
import { ModernTestClient } from '../helpers/modern-mcp.js';

async function publish(fleetd: FleetdProcess, n: number): Promise<number> {
  const res = await fleetd.publish('relay.tick', `tick ${n}`, { data: { n } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

/** Waits for the client's own progress, bounded so a hang fails the test. */
async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('fleet-bridge relays MCP 2026-07-28', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('serves a modern client statelessly; after kill -9 of fleetd no re-initialize is needed and the listen stream is issued again', async () => {
    const fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
    cleanup.push(() => fleetd.dispose());
    let stderr = '';
    const transport = new StdioClientTransport({ command: process.execPath, args: [BRIDGE, '--home', fleetd.home, '--verbose'], env: { FLEET_TOKEN: '' }, stderr: 'pipe' });
    transport.stderr?.on('data', (d) => (stderr += d));
    const c = await ModernTestClient.over(transport);
    cleanup.push(() => c.close());
    expect(c.client.getProtocolEra()).toBe('modern');
    expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('wait_for_events');

    const uri = 'fleet://events/topic/relay';
    let cursor = (await c.read(uri)).cursor;
    const got: FleetEventLike[] = [];
    let draining = Promise.resolve();
    c.client.setNotificationHandler('notifications/resources/updated', () => {
      draining = draining.then(async () => {
        const r = await c.drain(uri, cursor).catch(() => undefined); // fleetd may be away: the next notice retries
        if (!r) return;
        got.push(...r.events);
        cursor = r.cursor;
      });
    });
    const sub = await c.listen([uri]);
    const ids: number[] = [];
    for (let n = 1; n <= 10; n++) ids.push(await publish(fleetd, n));
    await until('the first ten events', () => got.length >= 10);

    await fleetd.kill9();
    await fleetd.start(); // a new port: the bridge finds it through server.json
    // Published before the bridge's listen stream is back: the re-issued stream's notice makes the client read them.
    for (let n = 11; n <= 20; n++) ids.push(await publish(fleetd, n));
    await until(`all twenty events (stderr: ${stderr.slice(-2000)})`, () => got.length >= 20);
    for (let n = 21; n <= 25; n++) ids.push(await publish(fleetd, n));
    await until('the events after the restart', () => got.length >= 25);
    await draining;
    expect(got.map((e) => e.id)).toEqual(ids);
    // A call after the restart works without any initialize.
    expect((await c.call<{ events: unknown[] }>('list_events', { since: ids[0]! - 1, topics: ['relay.*'] })).events).toHaveLength(25);
    await sub.close();
  }, 90_000);

  it('with mcp.modern off, a dual-era client falls back to initialize through the bridge', async () => {
    const fleetd = await new FleetdProcess().start();
    cleanup.push(() => fleetd.dispose());
    const { Client } = await import('@modelcontextprotocol/client');
    const client = new Client({ name: 'auto', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    const transport = new StdioClientTransport({ command: process.execPath, args: [BRIDGE, '--home', fleetd.home], env: { FLEET_TOKEN: '' }, stderr: 'pipe' });
    await client.connect(transport);
    cleanup.push(() => client.close());
    expect(client.getProtocolEra()).toBe('legacy');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('wait_for_events');
  }, 60_000);

  it('--channel keeps a dual-era client on 2025-11-25 when fleetd serves 2026-07-28, so channel messages still reach it', async () => {
    const fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
    cleanup.push(() => fleetd.dispose());
    const { Client } = await import('@modelcontextprotocol/client');
    const client = new Client({ name: 'auto', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    const channel: { meta: Record<string, string> }[] = [];
    client.fallbackNotificationHandler = async (n) => {
      if (n.method === 'notifications/claude/channel') channel.push(n.params as unknown as { meta: Record<string, string> });
    };
    const transport = new StdioClientTransport({ command: process.execPath, args: [BRIDGE, '--home', fleetd.home, '--channel'], env: { FLEET_TOKEN: '' }, stderr: 'pipe' });
    await client.connect(transport);
    cleanup.push(() => client.close());
    expect(client.getProtocolEra()).toBe('legacy');
    expect(client.getServerCapabilities()?.experimental?.['claude/channel']).toEqual({});
    const id = await publish(fleetd, 1);
    await until('the channel message', () => channel.some((c) => c.meta.event_id === String(id)));
  }, 60_000);
});
