import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FLEETD, FleetdProcess, tempHome } from '../helpers/fleetd.js';

describe('fleetd --transport stdio', () => {
  const homes: string[] = [];
  afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

  it('serves the same tools and pushes events to one client on stdin/stdout', async () => {
    const home = tempHome();
    homes.push(home);
    const transport = new StdioClientTransport({ command: process.execPath, args: [FLEETD, '--transport', 'stdio', '--home', home], stderr: 'pipe' });
    const client = new Client({ name: 'stdio-test', version: '1' });
    const pushed: { topic: string; message: string }[] = [];
    let notify = () => {};
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      pushed.push(n.params.data as { topic: string; message: string });
      notify();
    });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['wait_for_events', 'list_events', 'publish_event', 'fleet_status']));
      const r = (await client.callTool({ name: 'publish_event', arguments: { topic: 'stdio.hello', message: 'over stdio' } })) as CallToolResult;
      expect(r.isError).toBeFalsy();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no pushed event over stdio')), 15_000);
        notify = () => {
          if (pushed.some((e) => e.topic === 'stdio.hello')) {
            clearTimeout(t);
            resolve();
          }
        };
        notify();
      });
      expect(pushed.find((e) => e.topic === 'stdio.hello')?.message).toBe('over stdio');
    } finally {
      await client.close();
    }
  });

  it('refuses to start beside a running daemon on the same home, naming fleet-bridge', async () => {
    const fleetd = await new FleetdProcess().start();
    try {
      const p = spawn(process.execPath, [FLEETD, '--transport', 'stdio', '--home', fleetd.home], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.stdout.on('data', (d) => (stdout += d));
      const code = await new Promise<number | null>((r) => p.on('exit', r));
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/already running/);
      expect(stderr).toMatch(/fleet-bridge/);
      expect(stderr).toContain(String(fleetd.proc.pid));
      expect(stdout).toBe('');
    } finally {
      await fleetd.dispose();
    }
  });
});
