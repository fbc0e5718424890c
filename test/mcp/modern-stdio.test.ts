import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';
import { FLEETD, tempHome } from '../helpers/fleetd.js';
import { ModernTestClient } from '../helpers/modern-mcp.js';

function modernHome(): string {
  const home = tempHome();
  writeFileSync(join(home, 'config.json'), JSON.stringify({ mcp: { modern: true } }), { mode: 0o600 });
  return home;
}

describe('fleetd --transport stdio with mcp.modern on', () => {
  const homes: string[] = [];
  afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

  it('serves a 2026-07-28 client: discover, tools, and a listen stream told of each event it publishes', async () => {
    const home = modernHome();
    homes.push(home);
    const c = await ModernTestClient.over(new StdioClientTransport({ command: process.execPath, args: [FLEETD, '--transport', 'stdio', '--home', home], stderr: 'pipe' }));
    try {
      expect(c.client.getProtocolEra()).toBe('modern');
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('publish_event');
      const start = await c.read('fleet://events');
      const sub = await c.listen(['fleet://events/topic/stdio']);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await c.call<{ event: { id: number } }>('publish_event', { topic: 'stdio.modern', message: `m${i}` })).event.id);
      await c.waitForUpdates('five updates', (u) => u.length >= 5);
      expect(c.updates.map((u) => u.eventId)).toEqual(ids);
      expect((await c.drain('fleet://events/topic/stdio', start.cursor)).events.map((e) => e.id)).toEqual(ids);
      await sub.close();
    } finally {
      await c.close();
    }
  });

  it('still opens a 2025-11-25 session on initialize, with notifications/message push', async () => {
    const home = modernHome();
    homes.push(home);
    const client = new Client({ name: 'legacy', version: '1' });
    const pushed: { topic: string }[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void pushed.push(n.params.data as { topic: string }));
    await client.connect(new LegacyStdio({ command: process.execPath, args: [FLEETD, '--transport', 'stdio', '--home', home], stderr: 'pipe' }));
    try {
      await client.callTool({ name: 'publish_event', arguments: { topic: 'stdio.legacy', message: 'pushed' } });
      const deadline = Date.now() + 15_000;
      while (!pushed.some((e) => e.topic === 'stdio.legacy') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(pushed.map((e) => e.topic)).toContain('stdio.legacy');
    } finally {
      await client.close();
    }
  });
});
