import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';

describe('a legacy /sse client that stops reading', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { maxUnreadBytes: 1024 * 1024 } } }).start();
  });
  afterAll(() => fleetd.dispose());

  const sessions = async () => ((await (await fleetd.fetch('/status')).json()) as { mcpSessions: number }).mcpSessions;

  it('is cut off and its session ended, instead of buffering without bound', async () => {
    const u = new URL(fleetd.url);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/sse', headers: { ...fleetd.auth, accept: 'text/event-stream' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(200);
    const endpoint = await new Promise<string>((resolve) => {
      res.setEncoding('utf8');
      let text = '';
      const onData = (chunk: string) => {
        text += chunk;
        const m = /event: endpoint\ndata: (\S+)\n/.exec(text);
        if (m) {
          res.off('data', onData);
          res.pause(); // from here on the client reads nothing
          resolve(m[1]!);
        }
      };
      res.on('data', onData);
    });
    const post = (body: unknown) => fetch(`${fleetd.url}${endpoint}`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'stalled', version: '1' } } })).status).toBe(202);
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    expect(await sessions()).toBe(1);

    const pad = 'x'.repeat(4000);
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 4000; i += 8) await fleetd.publish('test.flood', `${i} ${pad}`);
    });
    await Promise.all(senders);
    await until('the stalled session to be ended', async () => ((await sessions()) === 0 ? true : undefined));
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).status).toBe(404);
    res.destroy();
  });
});
