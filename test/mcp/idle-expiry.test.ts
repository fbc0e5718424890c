import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { RawMcpSession } from '../helpers/raw-mcp.js';
import { SseClient } from '../helpers/sse.js';

describe('MCP session idle expiry', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { sessionIdle: '1s' } } }).start();
  });
  afterAll(() => fleetd.dispose());

  it('expires a session with no open stream after the idle time (404 then), but keeps one whose GET stream is open', async () => {
    const idle = await new RawMcpSession(fleetd).initialize();
    const listening = await new RawMcpSession(fleetd).initialize();
    const stream = await new SseClient(`${fleetd.url}/mcp`, listening.getHeaders()).open();
    try {
      // Each probe is itself activity, so probe less often than the idle time.
      await until(
        'the idle session to expire',
        async () => ((await idle.post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status === 404 ? true : undefined),
        20_000,
        2500,
      );
      const alive = await listening.post({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
      expect(alive.status).toBe(200);
    } finally {
      stream.close();
    }
  });
});
