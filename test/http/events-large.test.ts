import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../shared/events.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { SseClient } from '../helpers/sse.js';

const MiB = 1024 * 1024;
// The daemon's page budget (PAGE_BYTES): a page holds at most this much event JSON, or one event.
const PAGE = MiB;
const SMALL = 1000;
const MEDIUM = 40; // ~0.9 MiB each: two never fit one page
// A few far above the page budget: each must still go through, one a page. (The issue's
// reproduction, 512+ MiB that no single JavaScript string can hold, passes too but takes
// minutes to publish: too slow for the suite.)
const HUGE = 3;

/**
 * Reads an SSE stream from a raw socket keeping only each event's id and the length of its
 * data line: the events here are too large to buffer whole in the test.
 */
function replayIds(d: FleetdProcess, path: string, stopAt: number): Promise<{ ids: number[]; dataChars: Map<number, number>; ended: boolean }> {
  const u = new URL(d.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { ...d.auth, accept: 'text/event-stream' } }, (res: IncomingMessage) => {
      const ids: number[] = [];
      const dataChars = new Map<number, number>();
      let line = ''; // the first characters of the current line, enough for `id: N`
      let lineLength = 0;
      let id = 0;
      let dataLength = -1;
      let finished = false;
      const done = (ended: boolean) => {
        if (finished) return;
        finished = true;
        res.destroy();
        resolve({ ids, dataChars, ended });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf('\n', start);
          const piece = chunk.slice(start, nl === -1 ? undefined : nl);
          if (line.length < 64) line += piece.slice(0, 64 - line.length);
          lineLength += piece.length;
          if (nl === -1) break;
          start = nl + 1;
          if (lineLength === 0) {
            if (dataLength >= 0) {
              ids.push(id);
              dataChars.set(id, dataLength);
              if (id >= stopAt) return done(false);
            }
            dataLength = -1;
          } else if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('data: {')) dataLength = lineLength - 6;
          line = '';
          lineLength = 0;
        }
      });
      res.on('close', () => done(true));
    });
    req.on('error', reject);
    req.end();
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m![1]) / 1024);
}

describe('replay across large events', () => {
  let d: FleetdProcess;
  const medium: number[] = [];
  const huge: number[] = [];
  let lastSmall = 0;

  beforeAll(async () => {
    d = await new FleetdProcess({ config: { bodyLimit: 16 * MiB } }).start();
    for (let i = 0; i < SMALL; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, k) => d.publish('test.small', `small ${i + k}`)));
      for (const r of batch) lastSmall = Math.max(lastSmall, ((await r.json()) as FleetEvent).id);
    }
    for (let i = 0; i < MEDIUM; i++) {
      const r = await d.publish('test.medium', `medium ${i}`, { data: { blob: 'm'.repeat(0.9 * MiB) } });
      expect(r.status).toBe(201);
      medium.push(((await r.json()) as FleetEvent).id);
    }
    for (let i = 0; i < HUGE; i++) {
      const r = await d.publish('test.huge', `huge ${i}`, { data: { blob: 'h'.repeat(8 * MiB) } });
      expect(r.status).toBe(201);
      huge.push(((await r.json()) as FleetEvent).id);
    }
  }, 120_000);
  afterAll(() => d?.dispose());

  it('replays every event once, in order, over SSE from since=0, and the daemon and its other clients go on', { timeout: 120_000 }, async () => {
    const bystander = await new SseClient(`${d.url}/events`, d.auth).open();
    const last = huge.at(-1)!;
    const before = peakRssMb(d.proc.pid!);
    // Twice: a resume across the same rows must not fail either.
    for (let round = 0; round < 2; round++) {
      const { ids, dataChars, ended } = await replayIds(d, '/events?since=0', last);
      expect(ended ? 'stream ended early' : 'complete').toBe('complete');
      expect(ids).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      expect(dataChars.get(huge[0]!)).toBeGreaterThan(8 * MiB);
    }
    const res = await d.publish('test.after', 'still here');
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as FleetEvent;
    await bystander.waitFor('the live event after the replay', (events) => events.some((e) => e.id === id));
    bystander.close();
    const after = peakRssMb(d.proc.pid!);
    console.log(`fleetd peak RSS: ${before} MB after publishing, ${after} MB after two replays of ${last} events (${HUGE} of 8 MiB)`);
  });

  it('pages the JSON history by bytes, at least one event a page, and the cursor continues to the end', { timeout: 120_000 }, async () => {
    const seen: number[] = [];
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const res = await d.fetch(`/events?since=${cursor}&limit=10000`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      const page = JSON.parse(text) as { events: FleetEvent[]; cursor: number; lastId: number };
      if (page.events.length === 0) break;
      pages++;
      if (page.events.length > 1) expect(text.length).toBeLessThan(PAGE + 64 * 1024);
      seen.push(...page.events.map((e) => e.id));
      expect(page.cursor).toBe(page.events.at(-1)!.id);
      cursor = page.cursor;
      if (cursor >= page.lastId) break;
    }
    expect(seen.slice(0, huge.at(-1)!)).toEqual(Array.from({ length: huge.at(-1)! }, (_, i) => i + 1));
    // The small events share pages; no two ~0.9 MiB events fit in one.
    expect(pages).toBeGreaterThanOrEqual(MEDIUM + HUGE);
  });

  it('bounds a list_events page in bytes too, with a cursor that continues', { timeout: 120_000 }, async () => {
    const mcp = await McpTestClient.connect(d);
    try {
      const first = await mcp.call<{ events: FleetEvent[]; cursor: number }>('list_events', { since: lastSmall, topics: ['test.medium'], limit: 1000 });
      expect(first.events.map((e) => e.id)).toEqual([medium[0]]);
      expect(first.cursor).toBe(medium[0]);
      const ids: number[] = [];
      let cursor = lastSmall;
      for (let i = 0; i < MEDIUM + 5; i++) {
        const page = await mcp.call<{ events: FleetEvent[]; cursor: number }>('list_events', { since: cursor, topics: ['test.medium'], limit: 1000 });
        if (page.events.length === 0) break;
        ids.push(...page.events.map((e) => e.id));
        cursor = page.cursor;
      }
      expect(ids).toEqual(medium);
      // wait_for_events reads through the same bounded pages.
      const waited = await mcp.call<{ events: FleetEvent[]; cursor: number }>('wait_for_events', { since: lastSmall, topics: ['test.medium'], limit: 1000, timeout_s: 1 });
      expect(waited.events.map((e) => e.id)).toEqual([medium[0]]);
      expect(waited.cursor).toBe(medium[0]);
    } finally {
      await mcp.close();
    }
  });
});
