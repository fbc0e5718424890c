import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser } from '../../shared/sse-parser.js';
import { FleetdProcess } from '../helpers/fleetd.js';

describe('a long replay on /events', () => {
  let d: FleetdProcess;
  beforeAll(async () => {
    d = await new FleetdProcess({ config: { sse: { subscriberBuffer: 50 } } }).start();
  });
  afterAll(() => d.dispose());

  it('is not cut off while the client reads steadily, even as live events overflow its live queue', async () => {
    const pad = 'p'.repeat(1000);
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 8000; i += 8) await d.publish('test.backlog', `${i} ${pad}`);
    });
    await Promise.all(senders);

    const u = new URL(d.url);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/events?since=0', headers: { ...d.auth, accept: 'text/event-stream' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    const parser = new SseParser();
    const ids: number[] = [];
    let ended = false;
    res.setEncoding('utf8');
    res.on('close', () => (ended = true));
    // A slow but steady reader: a pause after every chunk keeps its socket full while it replays.
    res.on('data', (chunk: string) => {
      for (const m of parser.push(chunk)) if (m.data) ids.push(Number(m.id));
      res.pause();
      setTimeout(() => res.resume(), 3);
    });
    let live = 0;
    let lastLive = 0;
    while (!ended && (lastLive === 0 || !ids.includes(lastLive))) {
      if (live < 300) {
        lastLive = ((await (await d.publish('test.live', `live ${live++}`)).json()) as { id: number }).id;
      }
      await new Promise((r) => setTimeout(r, 2)); // pacing the live publisher, not waiting for a result
    }
    res.destroy();
    expect(ended && !ids.includes(lastLive) ? 'cut off' : 'complete').toBe('complete');
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe(lastLive);
  });
});
