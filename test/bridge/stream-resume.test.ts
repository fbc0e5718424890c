import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { SseClient } from '../helpers/sse.js';
import { BridgeClient } from './bridge-client.js';

describe('fleet-bridge when its event stream is cut but fleetd lives on', () => {
  let fleetd: FleetdProcess;
  let bridge: BridgeClient;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
    bridge = await BridgeClient.connect(fleetd.home, ['--verbose']);
  });
  afterAll(async () => {
    await bridge.close();
    await fleetd.dispose();
  });

  it('resumes the same session by Last-Event-ID and gets what was sent meanwhile, once', async () => {
    const first = ((await (await fleetd.publish('cut.before', 'before the cut')).json()) as { id: number }).id;
    await bridge.waitForEvents('the event before the cut', (ev) => ev.some((e) => e.id === first));
    const sessionId = await until('the session id in the verbose log', () => /session ([0-9a-f-]{36}) on /.exec(bridge.stderr)?.[1]);

    // A plain GET for the bridge's session replaces (and so cuts) the bridge's stream; an
    // event published now travels on this stolen stream, not to the bridge.
    let stolen: number | undefined;
    for (let attempt = 0; attempt < 5 && stolen === undefined; attempt++) {
      const thief = await new SseClient(`${fleetd.url}/mcp`, { ...fleetd.auth, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }).open();
      expect(thief.status).toBe(200);
      const id = ((await (await fleetd.publish('cut.during', `during the cut ${attempt}`)).json()) as { id: number }).id;
      // Either the thief gets it (the bridge was off the stream) or the bridge took the stream back first.
      await thief.waitFor('the event or the end', (ev) => ev.some((m) => (m.params as { data?: { id?: number } })?.data?.id === id)).then(
        () => (stolen = id),
        () => undefined,
      );
    }
    expect(stolen).toBeDefined();
    // The bridge resumes with Last-Event-ID, which replays the stolen event to it.
    await bridge.waitForEvents('the event sent on the stolen stream', (ev) => ev.some((e) => e.id === stolen));
    const after = ((await (await fleetd.publish('cut.after', 'after the cut')).json()) as { id: number }).id;
    await bridge.waitForEvents('a live event after the resume', (ev) => ev.some((e) => e.id === after));
    const ids = bridge.events.map((e) => e.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    // Same session throughout: no re-initialize happened.
    expect(bridge.stderr).not.toMatch(/new session/);
    expect(bridge.stderr.match(/session [0-9a-f-]{36} on /g)).toHaveLength(1);
  });
});
