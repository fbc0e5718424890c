import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser } from '../../shared/sse-parser.js';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { RawMcpSession } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

/** Fleet event ids carried by an /mcp stream's messages, with the SSE id of each. */
function fleetIds(messages: { id?: string; data: string }[]): { sseId: string; id: number }[] {
  return messages
    .filter((m) => m.data.startsWith('{'))
    .map((m) => ({ sseId: m.id!, msg: JSON.parse(m.data) as { method?: string; params?: { data?: { id: number; topic: string } } } }))
    .filter((x) => x.msg.method === 'notifications/message' && x.msg.params?.data?.topic === 'test.flood')
    .map((x) => ({ sseId: x.sseId, id: x.msg.params!.data!.id }));
}

describe('an MCP client that stops reading its GET stream', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { maxUnreadBytes: 1024 * 1024, slowClientTimeout: '300ms' } } }).start();
  });
  afterAll(() => fleetd.dispose());

  it('is cut off instead of growing memory, and resumes with Last-Event-ID without losing a notification', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const u = new URL(fleetd.url);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/mcp', headers: s.getHeaders() }, resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(200);
    res.pause(); // stop reading: the daemon's buffers fill

    const pad = 'x'.repeat(4000);
    const published: number[] = [];
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 6000; i += 8) {
        const r = await fleetd.publish('test.flood', `${i} ${pad}`);
        published.push(((await r.json()) as { id: number }).id);
      }
    });
    await Promise.all(senders);
    published.sort((a, b) => a - b);
    await until('the daemon to cut off the stalled stream', async () => {
      const status = (await (await fleetd.fetch('/status')).json()) as { mcpStreamsCutOff: number };
      return status.mcpStreamsCutOff === 1 || undefined;
    });

    // Read what made it through; a cut-off stream then ends (a live one never would).
    const parser = new SseParser();
    const received: { id?: string; data: string }[] = [];
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => received.push(...parser.push(chunk)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the stalled stream was never cut off')), 30_000);
      res.on('close', () => {
        clearTimeout(t);
        resolve();
      });
      res.resume();
    });
    const before = fleetIds(received);
    expect(before.length).toBeLessThan(published.length);

    // Resume by Last-Event-ID, as clients do, until the last notification arrived; a
    // reader that falls behind again during the replay is cut again and resumes again.
    let lastSseId = [...received].reverse().find((m) => m.id)!.id!;
    const after: { sseId: string; id: number }[] = [];
    for (let round = 0; round < 20 && after.at(-1)?.id !== published.at(-1); round++) {
      const resumed = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders(lastSseId)).open();
      expect(resumed.status).toBe(200);
      await Promise.race([resumed.done, resumed.waitFor('the last flood notification', () => resumed.messages.at(-1)?.data.includes(`"id":${published.at(-1)},`) ?? false, 60_000)]).catch(() => undefined);
      resumed.close();
      await resumed.done;
      after.push(...fleetIds(resumed.messages));
      lastSseId = [...resumed.messages].reverse().find((m) => m.id)?.id ?? lastSseId;
    }
    expect([...before, ...after].map((x) => x.id)).toEqual(published);
  });
});
