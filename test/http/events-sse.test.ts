import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../shared/events.js';
import { SseParser, type SseMessage } from '../../shared/sse-parser.js';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { SseClient } from '../helpers/sse.js';

let d: FleetdProcess;
const clients: SseClient[] = [];

beforeAll(async () => {
  d = await new FleetdProcess().start();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await d?.dispose();
});

async function publish(daemon: FleetdProcess, topic: string, message: string, extra: Record<string, unknown> = {}): Promise<FleetEvent> {
  const res = await daemon.publish(topic, message, extra);
  expect(res.status).toBe(201);
  return (await res.json()) as FleetEvent;
}

async function sse(daemon: FleetdProcess, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
  const c = await new SseClient(`${daemon.url}/events${query}`, { ...daemon.auth, ...headers }).open();
  clients.push(c);
  expect(c.status).toBe(200);
  return c;
}

const ids = (events: { id: number }[]) => events.map((e) => e.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('GET /events (SSE)', () => {
  it('frames each event with its id, its topic as event name, and its JSON as data', async () => {
    const res = await d.fetch('/events?since=0', { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toMatch(/no-cache/);
    const reader = res.body!.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const got: SseMessage[] = [];
    let raw = '';
    while (got.filter((m) => m.data).length === 0) {
      const { value } = await reader.read();
      raw += decoder.decode(value, { stream: true });
      got.push(...parser.push(decoder.decode(value)));
    }
    await reader.cancel();
    expect(raw).toMatch(/^retry: \d+\n/);
    expect(parser.retryMs).toBeGreaterThan(0);
    // The stream opens with its starting cursor, so a drop before any event can still resume.
    expect(got[0]).toMatchObject({ id: '0', data: '' });
    const first = got.find((m) => m.data)!;
    const event = JSON.parse(first.data) as FleetEvent;
    expect(first.id).toBe(String(event.id));
    expect(first.event).toBe(event.topic);
    expect(event.topic).toBe('fleet.started');
  });

  it('gives two clients with different Last-Event-IDs exactly the events after their ids, in order, then live ones', async () => {
    const history: FleetEvent[] = [];
    for (let i = 0; i < 10; i++) history.push(await publish(d, 'two.clients', `h${i}`));
    const a = await sse(d, '', { 'last-event-id': String(history[2]!.id) });
    const b = await sse(d, '?topic=two.*', { 'last-event-id': String(history[6]!.id) });
    await a.waitFor('a: replay', (ev) => ev.length >= 7);
    await b.waitFor('b: replay', (ev) => ev.length >= 3);
    expect(ids(a.events)).toEqual(ids(history.slice(3)));
    expect(ids(b.events)).toEqual(ids(history.slice(7)));

    const live: FleetEvent[] = [];
    for (let i = 0; i < 5; i++) live.push(await publish(d, 'two.clients', `live${i}`));
    await a.waitFor('a: live', (ev) => ev.length >= 12);
    await b.waitFor('b: live', (ev) => ev.length >= 8);
    expect(ids(a.events)).toEqual(ids([...history.slice(3), ...live]));
    expect(ids(b.events)).toEqual(ids([...history.slice(7), ...live]));
    expect(a.events.map((e) => e.message)).toEqual([...history.slice(3), ...live].map((e) => e.message));
    a.close();
    b.close();
  });

  it('switches from replay to live with nothing lost or repeated while events keep arriving', async () => {
    const start = await publish(d, 'switch.over', 'start');
    const publishing = (async () => {
      const out: FleetEvent[] = [];
      for (let i = 0; i < 300; i++) out.push(await publish(d, 'switch.over', `s${i}`));
      return out;
    })();
    const c = await sse(d, '?topic=switch.*', { 'last-event-id': String(start.id - 1) });
    const sent = await publishing;
    await c.waitFor('all 301 events', (ev) => ev.length >= 301);
    expect(ids(c.events)).toEqual(ids([start, ...sent]));
    c.close();
  });

  it('starts from now without since or Last-Event-ID', async () => {
    await publish(d, 'from.now', 'old');
    const c = await sse(d);
    const fresh = await publish(d, 'from.now', 'new');
    await c.waitFor('the new event', (ev) => ev.length >= 1);
    expect(ids(c.events)).toEqual([fresh.id]);
    c.close();
  });

  it('resumes with ?since= an id, an ISO time or a duration, and Last-Event-ID wins over since', async () => {
    const before = await publish(d, 'since.test', 'before');
    await until('the clock to move past the first event', () => Date.now() > Date.parse(before.ts) || undefined, 5000, 1);
    const evs: FleetEvent[] = [];
    for (let i = 0; i < 3; i++) evs.push(await publish(d, 'since.test', `e${i}`));

    const byId = await sse(d, `?since=${before.id}&topic=since.*`);
    await byId.waitFor('since id', (ev) => ev.length >= 3);
    expect(ids(byId.events)).toEqual(ids(evs));

    const byTime = await sse(d, `?since=${encodeURIComponent(evs[0]!.ts)}&topic=since.*`);
    await byTime.waitFor('since ISO', (ev) => ev.length >= 3);
    expect(ids(byTime.events)).toEqual(ids(evs));

    const zoned = new Date(Date.parse(evs[0]!.ts)).toISOString().replace('Z', '+00:00');
    const byZoned = await sse(d, `?since=${encodeURIComponent(zoned)}&topic=since.*`);
    await byZoned.waitFor('since ISO with offset', (ev) => ev.length >= 3);
    expect(ids(byZoned.events)).toEqual(ids(evs));

    const byDuration = await sse(d, '?since=1h&topic=since.*');
    await byDuration.waitFor('since 1h', (ev) => ev.length >= 4);
    expect(ids(byDuration.events)).toEqual(ids([before, ...evs]));

    const headerWins = await sse(d, '?since=0&topic=since.*', { 'last-event-id': String(evs[1]!.id) });
    await headerWins.waitFor('Last-Event-ID over since', (ev) => ev.length >= 1);
    expect(ids(headerWins.events)).toEqual([evs[2]!.id]);

    const live = await publish(d, 'since.test', 'live');
    for (const c of [byId, byTime, byZoned, byDuration, headerWins]) {
      await c.waitFor('the live event', (ev) => ev.some((e) => e.id === live.id));
      expect(c.events[c.events.length - 1]!.id).toBe(live.id);
      c.close();
    }
  });

  it('filters by topic globs, repeated or comma-separated', async () => {
    const mark = await publish(d, 'filter.mark', 'mark');
    const sent = [
      await publish(d, 'alpha.one', '1'),
      await publish(d, 'beta.two', '2'),
      await publish(d, 'alpha.deep.three', '3'),
      await publish(d, 'gamma.four', '4'),
      await publish(d, 'beta.five', '5'),
    ];
    const last = sent[sent.length - 1]!.id;
    const want = (pred: (t: string) => boolean) => ids(sent.filter((e) => pred(e.topic)));
    const cases: [string, number[]][] = [
      ['?topic=alpha.*', want((t) => t.startsWith('alpha.'))],
      ['?topic=alpha.*&topic=gamma.four', want((t) => t.startsWith('alpha.') || t === 'gamma.four')],
      ['?topic=alpha.*,gamma.four', want((t) => t.startsWith('alpha.') || t === 'gamma.four')],
      [`?topic=${encodeURIComponent('*.five, gamma.*')}`, want((t) => t === 'beta.five' || t.startsWith('gamma.'))],
    ];
    for (const [query, expected] of cases) {
      const c = await sse(d, `${query}&since=${mark.id}`);
      await c.waitFor(`${query}: ${expected.length} events`, (ev) => ev.length >= expected.length);
      // A live event after the last one proves nothing else was on its way.
      expect(ids(c.events), query).toEqual(expected);
      c.close();
    }
    // Live events are filtered too.
    const c = await sse(d, `?topic=beta.*&since=${last}`);
    await publish(d, 'alpha.one', 'not for c');
    const b = await publish(d, 'beta.two', 'for c');
    await c.waitFor('live beta', (ev) => ev.length >= 1);
    expect(ids(c.events)).toEqual([b.id]);
    c.close();
  });

  it('sends keep-alive comments on an idle stream', async () => {
    const k = new FleetdProcess({ config: { sse: { keepAlive: '200ms' } } });
    try {
      await k.start();
      const res = await k.fetch('/events', { headers: { accept: 'text/event-stream' } });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let raw = '';
      const deadline = Date.now() + 10_000;
      while ((raw.match(/: keep-alive\n\n/g) ?? []).length < 2 && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        raw += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
      expect((raw.match(/: keep-alive\n\n/g) ?? []).length).toBeGreaterThanOrEqual(2);
    } finally {
      await k.dispose();
    }
  });

  it('gives a reader asking for trimmed ids a fleet.gap first, then the rest', async () => {
    const r = new FleetdProcess({ config: { retention: { maxEvents: 5 } } });
    try {
      await r.start();
      const sent: FleetEvent[] = [];
      for (let i = 0; i < 20; i++) sent.push(await publish(r, 'retained.x', `r${i}`));
      const c = await sse(r, '?since=0');
      const lastId = sent[sent.length - 1]!.id;
      await c.waitFor('replay to the last event', (ev) => ev.some((e) => e.id === lastId));
      const [gap, ...rest] = c.events;
      expect(gap).toMatchObject({ topic: 'fleet.gap', level: 'warning', data: { from: 1 } });
      const to = (gap!.data as { to: number }).to;
      expect(gap!.id).toBe(to);
      expect(ids(rest)).toEqual(range(to + 1, lastId));
      expect(rest.length).toBeGreaterThanOrEqual(5);
      c.close();
    } finally {
      await r.dispose();
    }
  });
});

/** A raw SSE reader over node:http that can stop reading (pause) like a stuck client. */
class RawSse {
  readonly messages: SseMessage[] = [];
  res!: IncomingMessage;
  closed!: Promise<void>;
  private readonly parser = new SseParser();

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  open(): Promise<this> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, { headers: { accept: 'text/event-stream', ...this.headers } }, (res) => {
        this.res = res;
        res.setEncoding('utf8');
        this.closed = new Promise((r) => res.once('close', () => r()));
        res.on('data', (chunk: string) => this.messages.push(...this.parser.push(chunk)));
        res.on('error', () => undefined); // the server cutting us off mid-chunk is expected
        resolve(this);
      });
      req.on('error', reject);
      req.end();
    });
  }

  get events(): FleetEvent[] {
    return this.messages.filter((m) => m.data).map((m) => JSON.parse(m.data) as FleetEvent);
  }
}

async function sseStreams(daemon: FleetdProcess): Promise<number> {
  return ((await (await daemon.fetch('/status')).json()) as { sseStreams: number }).sseStreams;
}

describe('a subscriber that stops reading', () => {
  let s: FleetdProcess;
  beforeAll(async () => {
    s = await new FleetdProcess({ config: { sse: { subscriberBuffer: 50 } } }).start();
  });
  afterAll(async () => {
    await s?.dispose();
  });

  it('does not hold up the publisher or other subscribers, is cut off, and gets everything it missed on reconnect', { timeout: 120_000 }, async () => {
    const first = await publish(s, 'stall.start', 'start');
    const healthy = await sse(s, '?topic=stall.*', { 'last-event-id': String(first.id - 1) });
    const stalled = await new RawSse(`${s.url}/events?topic=stall.*`, { ...s.auth, 'last-event-id': String(first.id - 1) }).open();
    await until('the stuck client to read the first event', () => stalled.events.length >= 1 || undefined);
    await healthy.waitFor('the healthy client to read the first event', (ev) => ev.length >= 1);
    expect(await sseStreams(s)).toBe(2);

    stalled.res.pause(); // stops reading: its socket buffers fill up

    const pad = 'x'.repeat(2000);
    const sent: FleetEvent[] = [first];
    let cutOff = false;
    const started = Date.now();
    for (let round = 0; !cutOff; round++) {
      if (round >= 40) throw new Error(`the stuck subscriber was never cut off after ${sent.length} events`);
      // 500 events of ~2 KB per round, 16 publishers at a time.
      const batch = await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          const out: FleetEvent[] = [];
          for (let i = 0; i < 500 / 16; i++) out.push(await publish(s, 'stall.flood', `r${round}w${w}i${i}`, { data: { pad } }));
          return out;
        }),
      );
      sent.push(...batch.flat().sort((a, b) => a.id - b.id));
      cutOff = (await sseStreams(s)) === 1;
    }
    const publishMs = Date.now() - started;
    const last = sent[sent.length - 1]!;
    // The healthy client kept up with everything while the other one was stuck.
    await healthy.waitFor('the healthy client to get every flood event', (ev) => ev.length >= sent.length, 60_000);
    expect(ids(healthy.events)).toEqual(ids(sent));
    expect(healthy.ended).toBe(false);
    // Bounded, generously: a publisher that waited on the stuck reader would hang instead.
    expect(publishMs).toBeLessThan(60_000);

    // The stuck client reads what its buffers still hold, then sees its connection closed.
    stalled.res.resume();
    await stalled.closed;
    const got = stalled.events;
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got.length).toBeLessThan(sent.length);
    expect(ids(got)).toEqual(ids(sent.slice(0, got.length)));

    // Reconnecting with the last id it parsed brings exactly the rest, once each, then live ones.
    const lastSeen = got[got.length - 1]!.id;
    const again = await sse(s, '?topic=stall.*', { 'last-event-id': String(lastSeen) });
    const live = await publish(s, 'stall.after', 'after reconnect');
    await again.waitFor('the rest and the live event', (ev) => ev.some((e) => e.id === live.id), 60_000);
    expect(ids([...got, ...again.events])).toEqual(ids([...sent, live]));
    expect(again.events.some((e) => e.id <= lastSeen)).toBe(false);
    expect(last.id).toBeLessThan(live.id);
    again.close();
    healthy.close();
  });
});
