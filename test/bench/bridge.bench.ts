/**
 * Issue 5 benchmarks: fleet-bridge beside a direct /mcp client and beside supergateway
 * (streamable-http -> stdio) relaying to the same daemon, all in one run.
 *  - tool-call latency (fleet_status), p50/p99: with SDK clients (what an agent runs) and
 *    with minimal clients (one JSON line or one POST), whose difference is the relay's own cost
 *  - start-up: spawn to initialize answered (goal < 150 ms)
 *  - idle RSS (goal < 40 MB), beside a bare `node` process, the floor on this machine
 *  - fleet events that reach a stdio client through each relay
 * Runs under test/bench/run.ts (`npm run bench -- bridge`) or alone:
 * `node --import tsx test/bench/bridge.bench.ts [--quick]`. Needs `npm run build`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { BRIDGE, FleetdProcess, ROOT } from '../helpers/fleetd.js';
import { percentile, rssMb, type Bench, type BenchEnv, type BenchRow } from './lib.js';

const SUPERGATEWAY = join(ROOT, 'node_modules/.bin/supergateway');
const INIT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } };
const CALL = { name: 'fleet_status', arguments: {} };

type Way = 'direct' | 'bridge' | 'supergateway';
const WAYS: Way[] = ['direct', 'bridge', 'supergateway'];

/** The relay's command line for a daemon. */
function relayCommand(way: Exclude<Way, 'direct'>, d: FleetdProcess): { command: string; args: string[]; env: Record<string, string> } {
  if (way === 'bridge') return { command: process.execPath, args: [BRIDGE, '--home', d.home], env: { FLEET_TOKEN: '' } };
  return { command: SUPERGATEWAY, args: ['--streamableHttp', `${d.url}/mcp`, '--outputTransport', 'stdio', '--header', `Authorization: Bearer ${d.token}`, '--logLevel', 'none'], env: {} };
}

/** Something that makes one tool call; `pid` is the relay process, if any. */
interface Caller {
  call(): Promise<void>;
  close(): Promise<void>;
  pid?: number;
  events: number;
}

/** An SDK client, directly over HTTP or through a relay over stdio. */
async function sdkCaller(way: Way, d: FleetdProcess): Promise<Caller> {
  const client = new Client({ name: `bench-${way}`, version: '1.0.0' });
  const c: Caller = { events: 0, call: async () => void (await client.callTool(CALL)), close: () => client.close() };
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void (n.params.logger === 'fleet' && c.events++));
  if (way === 'direct') {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), { requestInit: { headers: d.auth } }));
  } else {
    const t = new StdioClientTransport({ ...relayCommand(way, d), stderr: 'ignore' });
    await client.connect(t);
    c.pid = t.pid ?? undefined;
  }
  return c;
}

/** A minimal client: one JSON line per call on a relay's stdin, or one keep-alive POST. */
async function rawCaller(way: Way, d: FleetdProcess): Promise<Caller> {
  let next = 1;
  if (way === 'direct') {
    const agent = new Agent({ keepAlive: true });
    let sid = '';
    const post = (body: unknown) =>
      new Promise<string>((resolve, reject) => {
        const text = JSON.stringify(body);
        const headers: Record<string, string | number> = { ...d.auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(text) };
        if (sid) Object.assign(headers, { 'mcp-session-id': sid, 'mcp-protocol-version': INIT.protocolVersion });
        const req = request(`${d.url}/mcp`, { method: 'POST', agent, headers }, (res) => {
          sid ||= String(res.headers['mcp-session-id'] ?? '');
          let out = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (out += c));
          res.on('end', () => resolve(out));
        });
        req.on('error', reject);
        req.end(text);
      });
    await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT });
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return {
      events: 0,
      async call() {
        const id = next++;
        const out = await post({ jsonrpc: '2.0', id, method: 'tools/call', params: CALL });
        const data = out.split('\n').find((l) => l.startsWith('data: {'));
        if ((JSON.parse(data!.slice(6)) as { id: number }).id !== id) throw new Error('direct: wrong answer');
      },
      close: async () => agent.destroy(),
    };
  }
  const { command, args, env } = relayCommand(way, d);
  const p: ChildProcessWithoutNullStreams = spawn(command, args, { env: { ...process.env, ...env } });
  const waiting = new Map<number, () => void>();
  let buf = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const m = JSON.parse(buf.slice(0, nl)) as { id?: number };
      buf = buf.slice(nl + 1);
      if (typeof m.id === 'number') waiting.get(m.id)?.();
    }
  });
  const send = (id: number, method: string, params: unknown) =>
    new Promise<void>((resolve) => {
      waiting.set(id, () => (waiting.delete(id), resolve()));
      p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await send(0, 'initialize', INIT);
  p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return {
    pid: p.pid,
    events: 0,
    call: () => send(next++, 'tools/call', CALL),
    close: async () => void p.stdin.end(),
  };
}

/** Calls in interleaved rounds so drift (GC, CPU frequency, the WAL) hits every caller alike. */
async function latencies(callers: Caller[], rounds: number, perRound: number): Promise<number[][]> {
  const out = callers.map(() => [] as number[]);
  for (const c of callers) for (let i = 0; i < 100; i++) await c.call(); // warm-up: JIT, sockets
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of callers.entries()) {
      for (let k = 0; k < perRound; k++) {
        const t0 = performance.now();
        await c.call();
        out[i]!.push(performance.now() - t0);
      }
    }
  }
  return out;
}

/** Spawn to initialize answered; the process is ended after. */
function startupMs(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
      if (!/"id":1[,}]/.test(out)) return;
      const ms = performance.now() - t0;
      p.stdin.end();
      setTimeout(() => p.kill('SIGKILL'), 3000).unref();
      p.once('exit', () => resolve(ms));
    });
    p.once('error', reject);
    p.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT })}\n`);
  });
}

/** RSS and private (anonymous, not the node binary's shared pages) resident memory, in MB. */
function memory(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: rssMb(pid).rss, anon: Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024 };
}

const idle = () => new Promise((r) => setTimeout(r, 1500));
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b > 0 && a > 0 ? `${(a / b).toFixed(2)}x` : '-');

/** Runs every measurement against one daemon and prints the side-by-side table. */
async function runAll(env: BenchEnv): Promise<BenchRow[]> {
  const fleetd = await new FleetdProcess().start();
  const open: Caller[] = [];
  try {
    // Memory first, on fresh relays: initialize and ten calls, then idle.
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)']);
    const fresh = { bridge: await sdkCaller('bridge', fleetd), supergateway: await sdkCaller('supergateway', fleetd) };
    open.push(fresh.bridge, fresh.supergateway);
    for (let i = 0; i < 10; i++) await Promise.all([fresh.bridge.call(), fresh.supergateway.call()]);
    await idle();
    const mem = { node: memory(bare.pid!), bridge: memory(fresh.bridge.pid!), supergateway: memory(fresh.supergateway.pid!) };
    bare.kill();

    const sdk = await Promise.all(WAYS.map((w) => sdkCaller(w, fleetd)));
    const raw = await Promise.all(WAYS.map((w) => rawCaller(w, fleetd)));
    open.push(...sdk, ...raw);
    const rounds = env.quick ? 5 : 20;
    const perRound = env.quick ? 40 : 100;
    env.say(`tool calls: ${rounds} interleaved rounds of ${perRound} per client, 6 clients`);
    const lat = await latencies([...sdk, ...raw], rounds, perRound);
    const p = (i: number, q: number) => percentile(lat[i]!, q);
    const S = (w: Way) => WAYS.indexOf(w);
    const R = (w: Way) => 3 + WAYS.indexOf(w);
    await idle();
    const burst = { bridge: memory(sdk[1]!.pid!), supergateway: memory(sdk[2]!.pid!) };

    const n = env.quick ? 10 : 50;
    const before = sdk.map((c) => c.events);
    for (let i = 0; i < n; i++) await fleetd.publish('bench.bridge', `event ${i}`);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && sdk.some((c, i) => c.events - before[i]! < n)) await new Promise((r) => setTimeout(r, 20));
    const events = sdk.map((c, i) => c.events - before[i]!);

    const starts = { bridge: [] as number[], supergateway: [] as number[] };
    for (let i = 0; i < (env.quick ? 5 : 15); i++) {
      for (const w of ['bridge', 'supergateway'] as const) {
        const { command, args, env: e } = relayCommand(w, fleetd);
        starts[w].push(await startupMs(command, args, e));
      }
    }
    const st = (w: 'bridge' | 'supergateway', q: number) => percentile(starts[w], q);

    const row = (name: string, direct: string, b: number | string, s: number | string, goal = '') => {
      const bs = typeof b === 'number' ? f2(b) : b;
      const ss = typeof s === 'number' ? f2(s) : s;
      return [name, direct, bs, ss, typeof b === 'number' && typeof s === 'number' ? ratio(s, b) : '', goal];
    };
    const table = [
      ['measure', 'direct /mcp', 'fleet-bridge', 'supergateway', 'supergateway / bridge', 'goal'],
      row('SDK client: tool call p50 (ms)', f2(p(S('direct'), 50)), p(S('bridge'), 50), p(S('supergateway'), 50)),
      row('SDK client: tool call p99 (ms)', f2(p(S('direct'), 99)), p(S('bridge'), 99), p(S('supergateway'), 99)),
      row('SDK client: added vs direct p50 (ms)', '-', p(S('bridge'), 50) - p(S('direct'), 50), p(S('supergateway'), 50) - p(S('direct'), 50), '< 1'),
      row('minimal client: tool call p50 (ms)', f2(p(R('direct'), 50)), p(R('bridge'), 50), p(R('supergateway'), 50)),
      row('minimal client: tool call p99 (ms)', f2(p(R('direct'), 99)), p(R('bridge'), 99), p(R('supergateway'), 99)),
      row('minimal client: added by the relay p50 (ms)', '-', p(R('bridge'), 50) - p(R('direct'), 50), p(R('supergateway'), 50) - p(R('direct'), 50), '< 1'),
      row('minimal client: added by the relay p99 (ms)', '-', p(R('bridge'), 99) - p(R('direct'), 99), p(R('supergateway'), 99) - p(R('direct'), 99)),
      row('start to initialize answered p50 (ms)', '-', st('bridge', 50), st('supergateway', 50), '< 150'),
      row('start to initialize answered p90 (ms)', '-', st('bridge', 90), st('supergateway', 90)),
      row(`idle RSS (MB; bare node: ${mem.node.rss.toFixed(1)})`, '-', mem.bridge.rss, mem.supergateway.rss, '< 40'),
      row(`idle private RssAnon (MB; bare node: ${mem.node.anon.toFixed(1)})`, '-', mem.bridge.anon, mem.supergateway.anon),
      row('idle RSS after the latency runs (MB)', '-', burst.bridge.rss, burst.supergateway.rss),
      row(`fleet events delivered (of ${n})`, String(events[S('direct')]), String(events[S('bridge')]), String(events[S('supergateway')]), 'all'),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const [i, r] of table.entries()) {
      env.say(`| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(' | ')} |`);
      if (i === 0) env.say(`|${widths.map((w, j) => (j === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    }

    const sg = (v: number, unit: string) => `supergateway ${f2(v)} ${unit}`;
    const added = (i: number, d: number, q: number) => p(i, q) - p(d, q);
    return [
      { bench: 'bridge.latency', metric: 'added by bridge p50 (minimal clients)', unit: 'ms', fleetd: added(R('bridge'), R('direct'), 50), better: 'lower', goal: { op: '<', value: 1 }, note: sg(added(R('supergateway'), R('direct'), 50), 'ms added') },
      { bench: 'bridge.latency', metric: 'added by bridge p99 (minimal clients)', unit: 'ms', fleetd: added(R('bridge'), R('direct'), 99), better: 'lower', note: sg(added(R('supergateway'), R('direct'), 99), 'ms added') },
      { bench: 'bridge.latency', metric: 'added by bridge p50 (SDK clients)', unit: 'ms', fleetd: added(S('bridge'), S('direct'), 50), better: 'lower', goal: { op: '<', value: 1 }, note: `${sg(added(S('supergateway'), S('direct'), 50), 'ms added')}; direct SDK p50 ${f2(p(S('direct'), 50))} ms` },
      { bench: 'bridge.startup', metric: 'start to initialize answered p50', unit: 'ms', fleetd: st('bridge', 50), better: 'lower', goal: { op: '<', value: 150 }, note: sg(st('supergateway', 50), 'ms') },
      { bench: 'bridge.idle', metric: 'idle RSS', unit: 'MB', fleetd: mem.bridge.rss, better: 'lower', goal: { op: '<', value: 40 }, note: `bare node ${mem.node.rss.toFixed(1)} MB; private ${mem.bridge.anon.toFixed(1)} MB (bare node ${mem.node.anon.toFixed(1)}); ${sg(mem.supergateway.rss, 'MB')}` },
      { bench: 'bridge.events', metric: 'fleet events delivered', unit: 'events', fleetd: events[S('bridge')], better: 'higher', goal: { op: '>=', value: n }, note: `supergateway ${events[S('supergateway')]}, direct ${events[S('direct')]}` },
    ];
  } finally {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await fleetd.dispose();
  }
}

export const benches: Bench[] = [
  {
    name: 'bridge',
    description: 'fleet-bridge vs direct /mcp vs supergateway: added tool-call latency, start-up, idle RSS, events delivered',
    run: runAll,
  },
];

// Alone: node --import tsx test/bench/bridge.bench.ts [--quick]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const rows = await runAll({ quick: process.argv.includes('--quick'), say, startNats: async () => undefined });
  for (const r of rows) say(`- ${r.bench} ${r.metric}: ${f2(r.fleetd ?? NaN)} ${r.unit}${r.note ? `; ${r.note}` : ''}`);
}
