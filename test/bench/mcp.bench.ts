/**
 * Issue 4 benchmarks: MCP over /mcp, each beside a baseline measured in the same run.
 *  - mcp.call     tool call round trip (fleet_status) over Streamable HTTP vs the same call over `fleetd --transport stdio`
 *  - mcp.push     publish -> notifications/message latency at 1 and 100 sessions vs the raw /events SSE stream
 *  - mcp.idle     fleetd RSS with 100 idle sessions vs with none
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { rmSync } from 'node:fs';
import { FLEETD, FleetdProcess, tempHome } from '../helpers/fleetd.js';
import { SseClient } from '../helpers/sse.js';
import { pace, percentile, rssMb, type Bench, type BenchRow } from './lib.js';

async function httpClient(d: FleetdProcess, onEvent?: (e: { id: number; data?: { t?: number } }) => void): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  if (onEvent) c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => onEvent(n.params.data as { id: number }));
  await c.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: d.auth } }));
  return c;
}

/** Round trips of one tool call, sequentially; returns latencies in ms and calls/s. */
async function roundTrips(c: Client, n: number): Promise<{ lat: number[]; perSec: number }> {
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

/** Publishes `n` paced events stamped with their send time; resolves latencies seen by `received`. */
async function pushLatency(d: FleetdProcess, sessions: number, n: number, received: Map<number, number[]>): Promise<number[]> {
  const sent = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = (await (await d.publish('bench.push', `p${i}`, { data: { t } })).json()) as { id: number };
    sent.set(r.id, t);
    await pace(5);
  }
  const last = Math.max(...sent.keys());
  const deadline = Date.now() + 30_000;
  while ((received.get(last)?.length ?? 0) < sessions && Date.now() < deadline) await pace(20);
  const lat: number[] = [];
  for (const [id, t] of sent) for (const at of received.get(id) ?? []) lat.push(at - t);
  return lat;
}

export const benches: Bench[] = [
  {
    name: 'mcp.call',
    description: 'tool call round trip over /mcp vs the same call over fleetd --transport stdio',
    async run(env) {
      const n = env.quick ? 300 : 3000;
      const d = await new FleetdProcess().start();
      const home = tempHome();
      try {
        const http = await httpClient(d);
        const h = await roundTrips(http, n);
        await http.close();
        const stdio = new Client({ name: 'bench', version: '1' });
        await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [FLEETD, '--transport', 'stdio', '--home', home], stderr: 'ignore' }));
        const s = await roundTrips(stdio, n);
        await stdio.close();
        const base = 'fleetd --transport stdio';
        return [
          { bench: 'mcp.call', metric: 'round trip p50', unit: 'ms', fleetd: percentile(h.lat, 50), nats: percentile(s.lat, 50), baseline: base, better: 'lower' },
          { bench: 'mcp.call', metric: 'round trip p99', unit: 'ms', fleetd: percentile(h.lat, 99), nats: percentile(s.lat, 99), baseline: base, better: 'lower' },
          { bench: 'mcp.call', metric: 'sequential calls', unit: 'calls/s', fleetd: h.perSec, nats: s.perSec, baseline: base, better: 'higher' },
        ] satisfies BenchRow[];
      } finally {
        await d.dispose();
        rmSync(home, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'mcp.push',
    description: 'publish -> notifications/message latency at 1 and 100 MCP sessions vs the raw /events SSE stream',
    async run(env) {
      const n = env.quick ? 50 : 300;
      const rows: BenchRow[] = [];
      for (const sessions of [1, 100]) {
        const d = await new FleetdProcess().start();
        try {
          const received = new Map<number, number[]>();
          const note = (id: number) => {
            const at = performance.now();
            const list = received.get(id) ?? [];
            list.push(at);
            received.set(id, list);
          };
          const clients: Client[] = [];
          for (let i = 0; i < sessions; i++) clients.push(await httpClient(d, (e) => note(e.id)));
          await pace(500); // let every session open its GET stream
          const mcpLat = await pushLatency(d, sessions, n, received);
          await Promise.all(clients.map((c) => c.close()));

          const rawReceived = new Map<number, number[]>();
          const streams: SseClient[] = [];
          for (let i = 0; i < sessions; i++) {
            const s = new SseClient(`${d.url}/events`, d.auth);
            streams.push(await s.open());
          }
          const seen = new Set<SseClient>();
          const poll = setInterval(() => {
            for (const s of streams) {
              for (const m of s.messages.splice(0)) {
                if (!m.data) continue;
                const id = Number(m.id);
                const list = rawReceived.get(id) ?? [];
                list.push(performance.now());
                rawReceived.set(id, list);
              }
              seen.add(s);
            }
          }, 1);
          const rawLat = await pushLatency(d, sessions, n, rawReceived);
          clearInterval(poll);
          streams.forEach((s) => s.close());
          const base = 'raw /events SSE';
          rows.push(
            { bench: 'mcp.push', metric: `p50 at ${sessions} session(s)`, unit: 'ms', fleetd: percentile(mcpLat, 50), nats: percentile(rawLat, 50), baseline: base, better: 'lower' },
            { bench: 'mcp.push', metric: `p99 at ${sessions} session(s)`, unit: 'ms', fleetd: percentile(mcpLat, 99), nats: percentile(rawLat, 99), baseline: base, better: 'lower', note: mcpLat.length < n * sessions ? `only ${mcpLat.length} of ${n * sessions} notifications arrived` : undefined },
          );
        } finally {
          await d.dispose();
        }
      }
      return rows;
    },
  },
  {
    name: 'mcp.idle',
    description: 'fleetd RSS with 100 idle MCP sessions (each with its GET stream open) vs with none',
    async run() {
      const d = await new FleetdProcess().start();
      try {
        await pace(1000);
        const none = rssMb(d.proc.pid!).rss;
        const clients: Client[] = [];
        for (let i = 0; i < 100; i++) clients.push(await httpClient(d));
        await pace(2000);
        const hundred = rssMb(d.proc.pid!).rss;
        await Promise.all(clients.map((c) => c.close()));
        return [{ bench: 'mcp.idle', metric: 'RSS, 100 idle sessions', unit: 'MB', fleetd: hundred, nats: none, baseline: 'same fleetd, no session', better: 'lower', goal: { op: '<', value: 150 } }];
      } finally {
        await d.dispose();
      }
    },
  },
];
