import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

describe('event delivery between sessions', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  it('a session-scoped event reaches only its session; a fleet-wide one reaches both', async () => {
    const a = await McpTestClient.connect(fleetd);
    const b = await McpTestClient.connect(fleetd);
    try {
      const mine = await a.call<{ event: { id: number; session?: string } }>('publish_event', { topic: 'note.self', message: 'only for a', private: true });
      expect(mine.event.session).toBe(a.sessionId);
      const all = await a.call<{ event: { id: number } }>('publish_event', { topic: 'note.all', message: 'for everyone' });
      await a.waitForPushed('both events on a', (ev) => ev.some((e) => e.id === all.event.id) && ev.some((e) => e.id === mine.event.id));
      await b.waitForPushed('the fleet-wide event on b', (ev) => ev.some((e) => e.id === all.event.id));
      // b got the later, fleet-wide event, so it would already have the earlier private one if it leaked.
      expect(b.pushed.map((e) => e.id)).not.toContain(mine.event.id);
      const bWait = await b.call<{ events: { id: number }[] }>('wait_for_events', { since: mine.event.id - 1, timeout_s: 1 });
      expect(bWait.events.map((e) => e.id)).toEqual([all.event.id]);
      const aWait = await a.call<{ events: { id: number }[] }>('wait_for_events', { since: mine.event.id - 1, timeout_s: 1 });
      expect(aWait.events.map((e) => e.id)).toEqual([mine.event.id, all.event.id]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a scoped event whose session is gone goes to everyone', async () => {
    const b = await McpTestClient.connect(fleetd);
    const c = await McpTestClient.connect(fleetd);
    try {
      const scoped = await c.call<{ event: { id: number; session: string } }>('publish_event', { topic: 'note.self', message: 'c private', private: true });
      const hidden = await b.call<{ events: { id: number }[] }>('list_events', { since: scoped.event.id - 1 });
      expect(hidden.events.map((e) => e.id)).not.toContain(scoped.event.id);
      const del = await fetch(`${fleetd.url}/mcp`, { method: 'DELETE', headers: { ...fleetd.auth, 'mcp-session-id': scoped.event.session, 'mcp-protocol-version': '2025-11-25' } });
      expect(del.status).toBe(200);
      const seen = await b.call<{ events: { id: number }[] }>('wait_for_events', { since: scoped.event.id - 1, timeout_s: 2 });
      expect(seen.events.map((e) => e.id)).toEqual([scoped.event.id]);
    } finally {
      await b.close();
      await c.close().catch(() => undefined);
    }
  });
});
