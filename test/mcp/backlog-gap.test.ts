import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { RawMcpSession } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

type Notice = { method?: string; params?: { level?: string; data?: { id?: number; topic?: string; message?: string } } };

describe('a client away longer than its session backlog', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { sessionBacklog: 20, sessionIdle: '4s' } } }).start();
  });
  afterAll(() => fleetd.dispose());

  it('resumes with a gap warning first, then every notification still kept, instead of a silent hole', async () => {
    const s = await new RawMcpSession(fleetd).initialize();
    const first = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders()).open();
    await first.waitFor('the priming id', () => first.messages.length > 0);
    const lastSeen = first.messages[0]!.id!;
    first.close();
    const published: number[] = [];
    for (let i = 0; i < 60; i++) published.push(((await (await fleetd.publish('test.backlog', `m${i}`)).json()) as { id: number }).id);

    // The backlog cap is applied by the session sweeper, which may first run while the 60 are
    // still being published (a loaded machine): wait for a resume after a sweep that saw them all.
    const resumed = await until(
      'a resume that reports the gap',
      async () => {
        const sse = await new SseClient(`${fleetd.url}/mcp`, s.getHeaders(lastSeen)).open();
        expect(sse.status).toBe(200);
        await sse.waitFor('a replayed notification', () => sse.messages.some((m) => m.data.includes(`"id":${published.at(-1)},`)), 10_000);
        sse.close();
        const notices = sse.messages.filter((m) => m.data.startsWith('{')).map((m) => JSON.parse(m.data) as Notice);
        return notices[0]?.params?.data?.topic === 'fleet.gap' && notices.length <= 21 ? notices : undefined;
      },
      20_000,
      600,
    );
    expect(resumed[0]!.params!.level).toBe('warning');
    expect(resumed[0]!.params!.data!.message).toMatch(/wait_for_events/);
    const ids = resumed.slice(1).map((n) => n.params!.data!.id!);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThanOrEqual(20);
    expect(ids).toEqual(published.slice(-ids.length));
  });
});
