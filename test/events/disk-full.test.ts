import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { RawMcpSession, readRpcAnswer } from '../helpers/raw-mcp.js';

// A real full filesystem: a small tmpfs (tests run as root) holding FLEET_HOME, filled to the last page.
const mountPoint = mkdtempSync(join(tmpdir(), 'fleet-full-'));
const home = join(mountPoint, 'home');
const filler = join(mountPoint, 'filler');
let fleetd: FleetdProcess;
let client: McpTestClient;

/** Writes `filler` until the filesystem says ENOSPC, in ever smaller pieces, so not one page is left. */
function fillDisk(): void {
  const fd = openSync(filler, 'a');
  try {
    for (const size of [256 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

beforeAll(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mountPoint]);
  mkdirSync(home, { mode: 0o700 });
  fleetd = await new FleetdProcess({ home }).start();
  client = await McpTestClient.connect(fleetd);
  expect((await fleetd.publish('before.full', 'stored while there was room')).status).toBe(201);
});

afterAll(async () => {
  await client?.client.close().catch(() => undefined);
  await fleetd?.dispose().catch(() => undefined);
  try {
    execFileSync('umount', [mountPoint]);
  } finally {
    rmSync(join(mountPoint, 'home'), { recursive: true, force: true });
    rmdirSync(mountPoint);
  }
});

describe('a full disk', () => {
  it('gets clear storage_full answers, keeps reads and MCP sessions working, and recovers without a restart', async () => {
    fillDisk();

    // MCP initialize works (it once got -32700 "Parse error": the session's message store could not write).
    const raw = new RawMcpSession(fleetd);
    await raw.initialize();
    const list = await raw.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(list.status).toBe(200);
    expect(JSON.stringify(await readRpcAnswer(list))).toContain('list_events');

    // Appends: 507 storage_full over HTTP, a tool error over MCP; never 500 "internal".
    for (let i = 0; i < 3; i++) {
      const res = await fleetd.publish('while.full', `attempt ${i}`);
      expect(res.status).toBe(507);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('storage_full');
      expect(body.error.message).toMatch(/disk holding .*fleet\.db is full \(SQLITE_FULL\).*Nothing was stored.*Free space/);
    }
    const published = await client.raw('publish_event', { topic: 'while.full', message: 'over MCP' });
    expect(published.isError).toBe(true);
    expect((published.content[0] as { text: string }).text).toMatch(/is full.*Free space/);

    // Reads keep working.
    const listed = await client.call<{ events: { topic: string }[] }>('list_events', { since: '0' });
    expect(listed.events.map((e) => e.topic)).toContain('before.full');
    expect(listed.events.map((e) => e.topic)).not.toContain('while.full');
    const waited = await client.call<{ events: { topic: string }[] }>('wait_for_events', { since: '0', timeout_s: 1 });
    expect(waited.events.map((e) => e.topic)).toContain('before.full');
    await client.call('fleet_status');
    const page = await fleetd.fetch('/events?since=0', { headers: { accept: 'application/json' } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { events: { topic: string }[] }).events.map((e) => e.topic)).toContain('before.full');
    expect((await fleetd.fetch('/status')).status).toBe(200);

    // Space comes back: appends work again, same process, same sessions.
    rmSync(filler);
    const after = await fleetd.publish('after.full', 'room again');
    expect(after.status).toBe(201);
    expect((await client.raw('publish_event', { topic: 'after.full', message: 'over MCP again' })).isError).toBeFalsy();
    expect((await raw.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' })).status).toBe(200);
    const tail = await client.call<{ events: { topic: string }[] }>('list_events', { since: '0' });
    expect(tail.events.map((e) => e.topic)).toEqual(expect.arrayContaining(['before.full', 'after.full']));
    expect(fleetd.proc.exitCode).toBeNull();
    expect(fleetd.stderr).not.toMatch(/unexpected error|Unhandled|RangeError/);
  });
});
