import { afterEach, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { socketStore } from './helpers.js';

interface Ev {
  id: number;
  topic: string;
  subject?: string;
  message: string;
}

/** Every credential event about a name, from the durable log. */
async function credentialEvents(fleetd: FleetdProcess, name: string): Promise<Ev[]> {
  const res = await fleetd.fetch('/events?since=0&topic=credential.*', { headers: { accept: 'application/json' } });
  const page = (await res.json()) as { events: Ev[] };
  return page.events.filter((e) => e.subject === name);
}

describe('credential TTL', () => {
  const daemons: FleetdProcess[] = [];
  const clients: McpTestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    for (const d of daemons.splice(0)) await d.dispose();
  });

  it('warns the lead time before expiry, then expires and erases the value, in order and once each', { timeout: 30_000 }, async () => {
    const fleetd = await new FleetdProcess({ config: { credentials: { expiryWarning: 2 } } }).start();
    daemons.push(fleetd);
    const mcp = await McpTestClient.connect(fleetd);
    clients.push(mcp);
    const t0 = Date.now();
    expect(await socketStore(fleetd.home, { name: 'short_lived', value: 'ttl-value-123456', ttl: '3s' })).toMatchObject({ ok: true });
    await mcp.waitForPushed('credential.expired', (es) => es.some((e) => e.topic === 'credential.expired'), 10_000);
    const pushed = mcp.pushed.filter((e) => e.subject === 'short_lived').map((e) => e.topic);
    expect(pushed).toEqual(['credential.stored', 'credential.expiring', 'credential.expired']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    expect(mcp.pushed.find((e) => e.topic === 'credential.expiring')!.message).toMatch(/^Secret short_lived expires in [12] s/);
    const list = await mcp.call<{ credentials: { name: string; state: string }[] }>('credential_store_list');
    expect(list.credentials).toEqual([expect.objectContaining({ name: 'short_lived', state: 'expired' })]);
    const use = await mcp.raw('execute_command', { member: 'nobody', command: 'echo {{secure.short_lived}}' });
    expect(use.isError).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // nothing fires twice
    expect((await credentialEvents(fleetd, 'short_lived')).map((e) => e.topic)).toEqual(['credential.stored', 'credential.expiring', 'credential.expired']);
  });

  it('survives a restart between expiring and expired: expired fires once on the next start, expiring never again', { timeout: 40_000 }, async () => {
    const fleetd = await new FleetdProcess({ config: { credentials: { expiryWarning: 2 } } }).start();
    daemons.push(fleetd);
    const mcp = await McpTestClient.connect(fleetd);
    const t0 = Date.now();
    await socketStore(fleetd.home, { name: 'restart_ttl', value: 'restart-value-98765', ttl: 4 });
    await mcp.waitForPushed('credential.expiring', (es) => es.some((e) => e.topic === 'credential.expiring'), 10_000);
    await mcp.close();
    await fleetd.kill9(); // a crash: no shutdown step can help
    expect(Date.now() - t0).toBeLessThan(4000); // down before it expired
    await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - t0))));
    await fleetd.start();
    await until('credential.expired after the restart', async () => (await credentialEvents(fleetd, 'restart_ttl')).some((e) => e.topic === 'credential.expired') || undefined);
    await fleetd.stop();
    await fleetd.start();
    await new Promise((r) => setTimeout(r, 500));
    expect((await credentialEvents(fleetd, 'restart_ttl')).map((e) => e.topic)).toEqual(['credential.stored', 'credential.expiring', 'credential.expired']);
    const c = await McpTestClient.connect(fleetd);
    clients.push(c);
    const list = await c.call<{ credentials: { name: string; state: string }[] }>('credential_store_list');
    expect(list.credentials).toEqual([expect.objectContaining({ name: 'restart_ttl', state: 'expired' })]);
  });

  it('fleetd down (crashed) across the warning time fires the warning once at the next start, then expires', { timeout: 40_000 }, async () => {
    const fleetd = await new FleetdProcess({ config: { credentials: { expiryWarning: 8 } } }).start();
    daemons.push(fleetd);
    const t0 = Date.now();
    await socketStore(fleetd.home, { name: 'late_warn', value: 'late-warn-value-1', ttl: 12 });
    await fleetd.kill9();
    expect(Date.now() - t0).toBeLessThan(4000); // down before the warning was due
    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - t0)))); // inside the warning window, before expiry
    await fleetd.start();
    await until(`expiring and expired (stderr: ${fleetd.stderr})`, async () => ((await credentialEvents(fleetd, 'late_warn')).length === 3 ? true : undefined), 20_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; events: ${JSON.stringify(await credentialEvents(fleetd, 'late_warn'))}`);
    });
    expect((await credentialEvents(fleetd, 'late_warn')).map((e) => e.topic)).toEqual(['credential.stored', 'credential.expiring', 'credential.expired']);
  });
});
