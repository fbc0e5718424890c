/**
 * Issue 22 benchmarks: MCP 2026-07-28 (stateless) beside the 2025-11-25 session path, both
 * served by SDK v2 (the session's client is SDK v1), on the same fleetd (config mcp.modern on), measured in the same run.
 *  - mcp.modern.call  tools/call round trip (fleet_status): a stateless request vs a call in a session
 *  - mcp.modern.push  publish -> notifications/resources/updated on a subscriptions/listen stream vs
 *                     publish -> notifications/message on a 2025 GET stream, at 1 and 100 clients
 */
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { pace, percentile, type Bench, type BenchRow } from './lib.js';

const MODERN = { mcp: { modern: true } };

async function legacyClient(d: FleetdProcess, onEvent?: (id: number) => void): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  if (onEvent) c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => onEvent((n.params.data as { id: number }).id));
  await c.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: d.auth } }));
  return c;
}

async function modernClient(d: FleetdProcess, onEvent?: (id: number) => void): Promise<ModernClient> {
  const c = new ModernClient({ name: 'bench', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  if (onEvent) c.setNotificationHandler('notifications/resources/updated', (n) => onEvent((n.params._meta as Record<string, number>)['fleet/eventId']!));
  await c.connect(new ModernTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: d.auth } }));
  if (onEvent) await c.listen({ resourceSubscriptions: ['fleet://events'] });
  return c;
}

type Caller = { callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown> };

async function roundTrips(c: Caller, n: number): Promise<{ lat: number[]; perSec: number }> {
  for (let i = 0; i < 50; i++) await c.callTool({ name: 'fleet_status', arguments: {} });
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await c.callTool({ name: 'fleet_status', arguments: {} });
    lat.push(performance.now() - s);
  }
  return { lat, perSec: n / ((performance.now() - t0) / 1000) };
}

/** Publishes `n` paced events; returns the latency from each publish to each client's notice of it. */
async function pushLatency(d: FleetdProcess, clients: number, n: number, received: Map<number, number[]>): Promise<number[]> {
  const sent = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = (await (await d.publish('bench.push', `p${i}`)).json()) as { id: number };
    sent.set(r.id, t);
    await pace(5);
  }
  const last = Math.max(...sent.keys());
  const deadline = Date.now() + 30_000;
  while ((received.get(last)?.length ?? 0) < clients && Date.now() < deadline) await pace(20);
  const lat: number[] = [];
  for (const [id, t] of sent) for (const at of received.get(id) ?? []) lat.push(at - t);
  return lat;
}

function recorder(): { received: Map<number, number[]>; note: (id: number) => void } {
  const received = new Map<number, number[]>();
  return {
    received,
    note: (id) => {
      const list = received.get(id) ?? [];
      list.push(performance.now());
      received.set(id, list);
    },
  };
}

export const benches: Bench[] = [
  {
    name: 'mcp.modern.call',
    description: 'tools/call round trip: MCP 2026-07-28 stateless request vs a 2025-11-25 session, same fleetd',
    async run(env) {
      const n = env.quick ? 300 : 3000;
      const d = await new FleetdProcess({ config: MODERN }).start();
      try {
        const modern = await modernClient(d);
        const m = await roundTrips(modern, n);
        await modern.close();
        const legacy = await legacyClient(d);
        const l = await roundTrips(legacy, n);
        await legacy.close();
        const base = '2025-11-25 session';
        return [
          { bench: 'mcp.modern.call', metric: 'round trip p50', unit: 'ms', fleetd: percentile(m.lat, 50), nats: percentile(l.lat, 50), baseline: base, better: 'lower' },
          { bench: 'mcp.modern.call', metric: 'round trip p99', unit: 'ms', fleetd: percentile(m.lat, 99), nats: percentile(l.lat, 99), baseline: base, better: 'lower' },
          { bench: 'mcp.modern.call', metric: 'sequential calls', unit: 'calls/s', fleetd: m.perSec, nats: l.perSec, baseline: base, better: 'higher' },
        ] satisfies BenchRow[];
      } finally {
        await d.dispose();
      }
    },
  },
  {
    name: 'mcp.modern.push',
    description: 'publish -> notifications/resources/updated on a listen stream vs -> notifications/message on a 2025 GET stream, at 1 and 100 clients',
    async run(env) {
      const n = env.quick ? 50 : 300;
      const rows: BenchRow[] = [];
      for (const count of [1, 100]) {
        const d = await new FleetdProcess({ config: MODERN }).start();
        try {
          const m = recorder();
          const modern: ModernClient[] = [];
          for (let i = 0; i < count; i++) modern.push(await modernClient(d, m.note));
          const modernLat = await pushLatency(d, count, n, m.received);
          await Promise.all(modern.map((c) => c.close()));

          const l = recorder();
          const legacy: Client[] = [];
          for (let i = 0; i < count; i++) legacy.push(await legacyClient(d, l.note));
          await pace(500); // let every session open its GET stream
          const legacyLat = await pushLatency(d, count, n, l.received);
          await Promise.all(legacy.map((c) => c.close()));
          const base = 'notifications/message, 2025 GET stream';
          const short = (lat: number[]) => (lat.length < n * count ? `only ${lat.length} of ${n * count} notifications arrived` : undefined);
          rows.push(
            { bench: 'mcp.modern.push', metric: `p50 at ${count} client(s)`, unit: 'ms', fleetd: percentile(modernLat, 50), nats: percentile(legacyLat, 50), baseline: base, better: 'lower' },
            { bench: 'mcp.modern.push', metric: `p99 at ${count} client(s)`, unit: 'ms', fleetd: percentile(modernLat, 99), nats: percentile(legacyLat, 99), baseline: base, better: 'lower', note: short(modernLat) ?? short(legacyLat) },
          );
        } finally {
          await d.dispose();
        }
      }
      return rows;
    },
  },
];
