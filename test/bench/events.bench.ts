/**
 * Issue 3 benchmarks: the event log and /events, beside NATS JetStream doing the same work.
 *  - events.append   durable append throughput (each acknowledged after commit)
 *  - events.replay   replay of a 1,000,000-event log from id 0 (fleetd over SSE), and memory
 *  - events.fanout   live fan-out latency publish -> received, 1 / 100 / 1,000 subscribers
 *  - events.idle     fleetd's memory when idle
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, JSONCodec, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { EventLog } from '../../daemon/events/event-log.js';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { pace, percentile, rssMb, sampleRss, type Bench, type BenchEnv, type BenchRow } from './lib.js';

const jc = JSONCodec();

/** Keep-alive HTTP client pieces for one daemon. */
function client(d: FleetdProcess, maxSockets: number) {
  const u = new URL(d.url);
  const agent = new Agent({ keepAlive: true, maxSockets });
  const post = (path: string, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        { agent, host: u.hostname, port: u.port, method: 'POST', path, headers: { ...d.auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

/** Opens a raw SSE stream (its own connection) and hands every chunk to `onData`. */
function openStream(d: FleetdProcess, path: string, onData: (chunk: Buffer) => void): Promise<IncomingMessage> {
  const u = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ agent: false, host: u.hostname, port: u.port, path, headers: { ...d.auth, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}`));
      res.on('data', onData);
      res.on('error', () => undefined);
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

async function status(d: FleetdProcess): Promise<{ lastEventId: number; eventsStored: number; sseStreams: number }> {
  return (await (await d.fetch('/status')).json()) as { lastEventId: number; eventsStored: number; sseStreams: number };
}

/** A representative event: about 200 bytes of JSON once stored. */
function sampleEvent(i: number) {
  return { topic: 'bench.replay', level: 'info' as const, subject: `member-${i % 50}`, message: `bench event ${i}: task finished on member-${i % 50}`, data: { n: i, exitCode: 0, durationMs: i % 1000 } };
}

async function nats(env: BenchEnv) {
  const server = await env.startNats();
  if (!server) return undefined;
  const nc = await connect({ servers: server.url });
  const jsm = await nc.jetstreamManager();
  return { server, nc, jsm, js: nc.jetstream() };
}

// --- durable append throughput ----------------------------------------------------------

const APPEND_CONCURRENCY = 128;

async function appendFleetd(env: BenchEnv, seconds: number): Promise<number> {
  const d = await new FleetdProcess().start();
  const c = client(d, APPEND_CONCURRENCY);
  try {
    const body = JSON.stringify({ topic: 'bench.append', message: 'benchmark event', subject: 'member-1', data: { n: 1 } });
    const runFor = async (ms: number) => {
      let ok = 0;
      const end = Date.now() + ms;
      await Promise.all(
        Array.from({ length: APPEND_CONCURRENCY }, async () => {
          while (Date.now() < end) {
            const s = await c.post('/events', body);
            if (s !== 201) throw new Error(`POST /events answered ${s}`);
            ok++;
          }
        }),
      );
      return ok;
    };
    await runFor(1000); // warm up
    const t0 = performance.now();
    const ok = await runFor(seconds * 1000);
    const rate = ok / ((performance.now() - t0) / 1000);
    env.say(`fleetd: ${ok} events acknowledged in ${seconds} s with ${APPEND_CONCURRENCY} in flight`);
    return rate;
  } finally {
    c.close();
    await d.dispose();
  }
}

async function appendNats(env: BenchEnv, seconds: number): Promise<number | undefined> {
  const n = await nats(env);
  if (!n) return undefined;
  try {
    await n.jsm.streams.add({ name: 'APPEND', subjects: ['append.>'], storage: StorageType.File, retention: RetentionPolicy.Limits });
    const payload = jc.encode({ topic: 'bench.append', level: 'info', message: 'benchmark event', subject: 'member-1', data: { n: 1 } });
    const runFor = async (ms: number) => {
      let ok = 0;
      const end = Date.now() + ms;
      await Promise.all(
        Array.from({ length: APPEND_CONCURRENCY }, async () => {
          while (Date.now() < end) {
            await n.js.publish('append.x', payload);
            ok++;
          }
        }),
      );
      return ok;
    };
    await runFor(1000);
    const t0 = performance.now();
    const ok = await runFor(seconds * 1000);
    env.say(`NATS: ${ok} messages acknowledged in ${seconds} s with ${APPEND_CONCURRENCY} in flight`);
    return ok / ((performance.now() - t0) / 1000);
  } finally {
    await n.nc.close();
    await n.server.stop();
  }
}

// --- replay of a big log ----------------------------------------------------------------

async function prefillFleetd(home: string, count: number): Promise<void> {
  const log = new EventLog(join(home, 'fleet.db'));
  try {
    for (let i = 0; i < count; i += 10_000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(count, i + 10_000); j++) batch.push(log.append(sampleEvent(j)));
      await Promise.all(batch);
    }
  } finally {
    log.close();
  }
}

async function replayFleetd(env: BenchEnv, count: number): Promise<{ rate: number; peakRss: number; hwm: number; bytes: number }> {
  const home = mkdtempSync(join(tmpdir(), 'fleet-bench-replay-'));
  const t0 = performance.now();
  await prefillFleetd(home, count);
  env.say(`fleetd: prefilled ${count} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const d = await new FleetdProcess({ home }).start();
  try {
    const { eventsStored } = await status(d);
    const sampler = sampleRss(d.proc.pid!);
    const needle = Buffer.from('\ndata: ');
    let seen = 0;
    let bytes = 0;
    let tail: Buffer = Buffer.alloc(0);
    let res: IncomingMessage | undefined;
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const count = (buf: Buffer) => {
        for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + needle.length)) seen++;
      };
      openStream(d, '/events?since=0', (chunk) => {
        bytes += chunk.length;
        if (tail.length) count(Buffer.concat([tail, chunk.subarray(0, needle.length - 1)]));
        count(chunk);
        tail = chunk.subarray(Math.max(0, chunk.length - (needle.length - 1)));
        if (seen >= eventsStored) resolve();
      }).then((r) => {
        res = r;
        r.on('close', () => reject(new Error(`stream closed after ${seen} of ${eventsStored} events`)));
      }, reject);
    });
    const elapsed = (performance.now() - start) / 1000;
    res?.destroy();
    const peakRss = sampler.stop();
    const { peak } = rssMb(d.proc.pid!);
    env.say(`fleetd: replayed ${seen} events (${(bytes / 2 ** 20).toFixed(0)} MB of SSE) in ${elapsed.toFixed(2)} s`);
    return { rate: seen / elapsed, peakRss, hwm: peak, bytes };
  } finally {
    await d.dispose();
  }
}

async function replayNats(env: BenchEnv, count: number): Promise<{ rate: number; peakRss: number } | undefined> {
  const n = await nats(env);
  if (!n) return undefined;
  try {
    await n.jsm.streams.add({ name: 'REPLAY', subjects: ['replay.>'], storage: StorageType.File, max_msgs: -1 });
    const t0 = performance.now();
    // Prefill with core publishes (flushed in steps), then wait until the stream holds them all.
    for (let i = 0; i < count; i++) {
      n.nc.publish('replay.x', jc.encode(sampleEvent(i)));
      if (i % 5000 === 4999) await n.nc.flush();
    }
    await n.nc.flush();
    await until('NATS to store the prefill', async () => ((await n.jsm.streams.info('REPLAY')).state.messages >= count ? true : undefined), 120_000, 100);
    env.say(`NATS: prefilled ${count} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const sampler = sampleRss(n.server.pid);
    const start = performance.now();
    const consumer = await n.js.consumers.get('REPLAY');
    const messages = await consumer.consume({ max_messages: 10_000 });
    let seen = 0;
    for await (const m of messages) {
      void m;
      if (++seen >= count) break;
    }
    const elapsed = (performance.now() - start) / 1000;
    const peakRss = sampler.stop();
    env.say(`NATS: ordered consumer read ${seen} messages in ${elapsed.toFixed(2)} s`);
    return { rate: seen / elapsed, peakRss };
  } finally {
    await n.nc.close();
    await n.server.stop();
  }
}

// --- live fan-out latency ---------------------------------------------------------------

interface FanoutPlan {
  subscribers: number;
  events: number;
  intervalMs: number;
}

const WARMUP_EVENTS = 10;

async function fanoutFleetd(plan: FanoutPlan): Promise<number[]> {
  const d = await new FleetdProcess().start();
  const c = client(d, 1);
  const latencies: number[] = [];
  const received = new Array<number>(plan.subscribers).fill(0);
  const streams: IncomingMessage[] = [];
  try {
    for (let s = 0; s < plan.subscribers; s++) {
      let buf = '';
      streams.push(
        await openStream(d, '/events?topic=fan.*', (chunk) => {
          const now = performance.now();
          buf += chunk.toString('latin1');
          const end = buf.lastIndexOf('\n\n');
          if (end === -1) return;
          const frames = buf.slice(0, end);
          buf = buf.slice(end + 2);
          for (let at = frames.indexOf('"t":'); at !== -1; at = frames.indexOf('"t":', at + 4)) {
            const t = parseFloat(frames.slice(at + 4, at + 30));
            const seq = received[s]!++;
            if (seq >= WARMUP_EVENTS) latencies.push(now - t);
          }
        }),
      );
    }
    await until(`${plan.subscribers} SSE streams open`, async () => ((await status(d)).sseStreams >= plan.subscribers ? true : undefined), 60_000, 50);
    for (let i = 0; i < plan.events; i++) {
      const code = await c.post('/events', `{"topic":"fan.x","message":"fan-out ${i}","data":{"t":${performance.now()}}}`);
      if (code !== 201) throw new Error(`POST /events answered ${code}`);
      await pace(plan.intervalMs);
    }
    await until('every subscriber to get every event', () => (received.every((n) => n >= plan.events) ? true : undefined), 60_000, 10);
    return latencies;
  } finally {
    for (const s of streams) s.destroy();
    c.close();
    await d.dispose();
  }
}

async function fanoutNats(env: BenchEnv, plan: FanoutPlan): Promise<number[] | undefined> {
  const n = await nats(env);
  if (!n) return undefined;
  const subs: NatsConnection[] = [];
  try {
    await n.jsm.streams.add({ name: 'FAN', subjects: ['fan.>'], storage: StorageType.File });
    const latencies: number[] = [];
    const received = new Array<number>(plan.subscribers).fill(0);
    for (let s = 0; s < plan.subscribers; s++) {
      const nc = await connect({ servers: n.server.url });
      subs.push(nc);
      nc.subscribe('fan.x', {
        callback: (_err, m) => {
          const now = performance.now();
          const { t } = jc.decode(m.data) as { t: number };
          const seq = received[s]!++;
          if (seq >= WARMUP_EVENTS) latencies.push(now - t);
        },
      });
      await nc.flush();
    }
    for (let i = 0; i < plan.events; i++) {
      await n.js.publish('fan.x', jc.encode({ topic: 'fan.x', message: `fan-out ${i}`, t: performance.now() }));
      await pace(plan.intervalMs);
    }
    await until('every NATS subscriber to get every message', () => (received.every((x) => x >= plan.events) ? true : undefined), 60_000, 10);
    return latencies;
  } finally {
    await Promise.all(subs.map((s) => s.close()));
    await n.nc.close();
    await n.server.stop();
  }
}

// --- the benches ------------------------------------------------------------------------

export const benches: Bench[] = [
  {
    name: 'events.append',
    description: `durable append throughput, ${APPEND_CONCURRENCY} publishes in flight, each acknowledged after commit`,
    async run(env) {
      const seconds = env.quick ? 2 : 5;
      const fleetd = await appendFleetd(env, seconds);
      const nats = await appendNats(env, seconds);
      return [
        {
          bench: 'events.append',
          metric: 'durable appends (POST /events vs JetStream publish+ack)',
          unit: 'events/s',
          fleetd,
          nats,
          better: 'higher',
          goal: { op: '>=', value: 20_000 },
          note: 'fleetd commits with synchronous=FULL (fsync per group commit) before answering; nats-server acknowledges once the message is written to its file store and fsyncs on its own schedule (every 2 min by default; the Debian 2.9 build has no per-write fsync option)',
        },
      ];
    },
  },
  {
    name: 'events.replay',
    description: 'replay a 1,000,000-event log from id 0 (fleetd: GET /events?since=0 over SSE; NATS: ordered consumer)',
    async run(env) {
      const count = env.quick ? 100_000 : 1_000_000;
      const f = await replayFleetd(env, count);
      const n = await replayNats(env, count);
      return [
        { bench: 'events.replay', metric: `replay ${count.toLocaleString('en-US')} events from id 0`, unit: 'events/s', fleetd: f.rate, nats: n?.rate, better: 'higher', goal: { op: '>=', value: 200_000 } },
        { bench: 'events.replay', metric: 'server peak RSS during replay', unit: 'MB', fleetd: f.peakRss, nats: n?.peakRss, better: 'lower', goal: { op: '<', value: 150 }, note: `fleetd VmHWM over its whole life: ${f.hwm.toFixed(0)} MB` },
      ];
    },
  },
  ...[
    { subscribers: 1, events: 500, intervalMs: 2 },
    { subscribers: 100, events: 300, intervalMs: 5, goal: 10 },
    { subscribers: 1000, events: 200, intervalMs: 20, goal: 50 },
  ].map(
    (full: FanoutPlan & { goal?: number }): Bench => ({
      name: `events.fanout.${full.subscribers}`,
      description: `live fan-out latency publish -> received, p50/p99, ${full.subscribers} subscriber(s)`,
      async run(env) {
        const plan = env.quick ? { ...full, events: Math.ceil(full.events / 5) } : full;
        const f = await fanoutFleetd(plan);
        const n = await fanoutNats(env, plan);
        env.say(`${plan.subscribers} subscribers: fleetd p50 ${percentile(f, 50).toFixed(2)} ms p99 ${percentile(f, 99).toFixed(2)} ms${n ? `; NATS p50 ${percentile(n, 50).toFixed(2)} ms p99 ${percentile(n, 99).toFixed(2)} ms` : ''}`);
        const label = `${plan.subscribers.toLocaleString('en-US')} subscriber${plan.subscribers > 1 ? 's' : ''}`;
        return [
          { bench: 'events.fanout', metric: `${label}: p50 publish -> received`, unit: 'ms', fleetd: percentile(f, 50), nats: n && percentile(n, 50), better: 'lower' },
          {
            bench: 'events.fanout',
            metric: `${label}: p99 publish -> received`,
            unit: 'ms',
            fleetd: percentile(f, 99),
            nats: n && percentile(n, 99),
            better: 'lower',
            goal: full.goal === undefined ? undefined : { op: '<', value: full.goal },
            note:
              plan.subscribers === 1000
                ? 'subscribers run in the bench process (raw node:http SSE for fleetd, one NATS connection each), so their own parsing counts; fleetd makes each event durable (fsync) before delivering it, NATS core subscribers get a message as JetStream stores it'
                : undefined,
          },
        ];
      },
    }),
  ),
  {
    name: 'events.idle',
    description: 'resident memory of an idle daemon, 3 s after start and once settled (at most 20 s)',
    async run(env) {
      // V8's memory reducer gives start-up garbage back some seconds after allocation stops;
      // settled is the RSS once it has held for 3 s after dropping, or at 20 s at the latest.
      const measure = async (pid: number) => {
        await pace(3000); // start-up done
        const early = rssMb(pid).rss;
        let settled = early;
        let heldSince = 0;
        for (let s = 3; s < 20; s++) {
          await pace(1000);
          const now = rssMb(pid).rss;
          if (now < settled - 1) heldSince = s;
          settled = Math.min(settled, now);
          if (heldSince && s - heldSince >= 3) break;
        }
        return { early, settled };
      };
      const d = await new FleetdProcess().start();
      let fleetd: { early: number; settled: number };
      try {
        fleetd = await measure(d.proc.pid!);
      } finally {
        await d.dispose();
      }
      const server = await env.startNats();
      let nats: { early: number; settled: number } | undefined;
      if (server) {
        try {
          nats = await measure(server.pid);
        } finally {
          await server.stop();
        }
      }
      return [
        { bench: 'events.idle', metric: 'RSS idle, 3 s after start', unit: 'MB', fleetd: fleetd.early, nats: nats?.early, better: 'lower' },
        {
          bench: 'events.idle',
          metric: 'RSS idle, settled',
          unit: 'MB',
          fleetd: fleetd.settled,
          nats: nats?.settled,
          better: 'lower',
          goal: { op: '<', value: 80 },
          note: 'about 45 MB of fleetd\'s RSS is the node binary\'s own mapped code (shared, file-backed); a bare `node` process idles at about 40 MB',
        },
      ];
    },
  },
];
