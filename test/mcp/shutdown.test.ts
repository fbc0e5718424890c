import { afterAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

describe('MCP sessions when fleetd stops', () => {
  const fleetd = new FleetdProcess();
  afterAll(() => fleetd.dispose());

  it('pushes fleet.stopping (and everything before it) to every session before ending it', async () => {
    await fleetd.start();
    const a = await McpTestClient.connect(fleetd);
    const b = await McpTestClient.connect(fleetd, 'sse');
    try {
      // Both sessions must be listening before the stop, or there is nothing to assert.
      const ready = (await (await fleetd.publish('test.ready', 'listening')).json()) as { id: number };
      await a.waitForPushed('ready on a', (ev) => ev.some((e) => e.id === ready.id));
      await b.waitForPushed('ready on b', (ev) => ev.some((e) => e.id === ready.id));
      const last = (await (await fleetd.publish('test.last', 'just before the stop')).json()) as { id: number };
      expect(await fleetd.stop()).toBe(0);
      for (const c of [a, b]) {
        await c.waitForPushed('fleet.stopping', (ev) => ev.some((e) => e.topic === 'fleet.stopping'));
        const ids = c.pushed.map((e) => e.id);
        expect(ids).toContain(last.id);
        expect(ids.indexOf(last.id)).toBeLessThan(ids.indexOf(c.pushed.find((e) => e.topic === 'fleet.stopping')!.id));
      }
    } finally {
      await a.close().catch(() => undefined);
      await b.close().catch(() => undefined);
    }
  });
});
