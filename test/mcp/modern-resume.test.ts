import { afterEach, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import type { FleetEventLike } from '../helpers/mcp.js';
import { ModernTestClient } from '../helpers/modern-mcp.js';

const BURST = 'fleet://events/topic/burst';

async function publish(fleetd: FleetdProcess, n: number): Promise<number> {
  const res = await fleetd.publish('burst.tick', `tick ${n}`, { data: { n } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

describe('MCP 2026-07-28: pushed events as resources, without loss', () => {
  let fleetd: FleetdProcess | undefined;
  afterEach(() => fleetd?.dispose());

  it('a listen stream subscribed to fleet://events gets one notifications/resources/updated per event, in order', async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
    const c = await ModernTestClient.connect(fleetd);
    try {
      const sub = await c.listen(['fleet://events']);
      const ids: number[] = [];
      for (let n = 1; n <= 100; n++) ids.push(await publish(fleetd, n));
      await c.waitForUpdates('100 updates', (u) => u.length >= 100);
      expect(c.updates.map((u) => u.eventId)).toEqual(ids);
      expect(new Set(c.updates.map((u) => u.uri))).toEqual(new Set(['fleet://events']));
      await sub.close();
    } finally {
      await c.close();
    }
  });

  it('a stream cut mid-burst and a kill -9 of fleetd lose nothing: listen again, read from the cursor, all 100 once and in order', async () => {
    const d = (fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start());
    const c = await ModernTestClient.connect(d);
    try {
      // The client's own state: its cursor and what it has read. One drain at a time, run on every update.
      let cursor = (await c.read(BURST)).cursor;
      const got: FleetEventLike[] = [];
      let draining = Promise.resolve();
      const drain = () =>
        (draining = draining.then(async () => {
          const r = await c.drain(BURST, cursor);
          got.push(...r.events);
          cursor = r.cursor;
        }));
      c.client.setNotificationHandler('notifications/resources/updated', () => void drain());

      let sub = await c.listen([BURST]);
      const ids: number[] = [];
      let cutAt = 0;
      for (let n = 1; n <= 100; n++) {
        if (n === 61) {
          // fleetd dies between two publishes, with the stream already cut for 40 events.
          await d.kill9();
          await d.start();
          // No re-initialize in this era: the same client listens again, then reads from its cursor.
          sub = await c.listen([BURST]);
          await drain();
        }
        ids.push(await publish(d, n));
        if (n === 20) {
          await until(() => got.length >= 10); // the consumer is mid-way through the burst
          cutAt = got.length;
          await sub.close(); // the stream drops mid-burst
        }
      }
      await until(() => got.length >= 100);
      await draining;
      expect(cutAt).toBeGreaterThan(0);
      expect(cutAt).toBeLessThan(100);
      expect(got.map((e) => e.id)).toEqual(ids);
      expect(got.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      await sub.close();
    } finally {
      await c.close();
    }
  }, 60_000);
});

/** Waits for `check` (the client's own progress) to hold, bounded so a hang fails the test. */
async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the client to catch up');
    await new Promise((r) => setTimeout(r, 10));
  }
}
