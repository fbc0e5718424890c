import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

/** Waits (bounded) until `cond` holds: for a file the member's command writes when it is done. */
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('POST /members/exec and a client that reads slower than the member prints', () => {
  let fleetd: FleetdProcess;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-slow-client-'));
    fleetd = await new FleetdProcess().start();
    const mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', { name: 'here', kind: 'local' });
    await mcp.close();
  }, 60_000);
  afterAll(async () => {
    await fleetd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops the live lines that do not fit and says how many bytes, instead of queueing endless output', { timeout: 120_000 }, async () => {
    const done = join(dir, 'done');
    const total = 40 * 1024 * 1024; // 40 MiB of 1 KiB lines
    const command = `yes "$(printf '%01023d' 0)" | head -c ${total}; touch ${done}`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${fleetd.url}/members/exec`, { method: 'POST', headers: { ...fleetd.auth, 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ member: 'here', command, timeout_s: 100 }));
    });
    // Not read while the member prints all of it.
    res.pause();
    await until('the command to end', () => existsSync(done));
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.resume();
    await new Promise((r) => res.once('end', r));

    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { stream?: string; text?: string; skipped?: number; ok?: boolean; exitCode?: number });
    const shown = lines.filter((l) => l.stream === 'stdout').reduce((n, l) => n + Buffer.byteLength(l.text!), 0);
    const skipped = lines.filter((l) => l.skipped !== undefined).reduce((n, l) => n + l.skipped!, 0);
    expect(skipped).toBeGreaterThan(0);
    // Nothing is lost unaccounted: every byte was either sent or counted as skipped.
    expect(shown + skipped).toBe(total);
    // What fleetd held for this client is bounded (its queue plus the socket's buffers), far below the output.
    expect(shown).toBeLessThan(total / 2);
    expect(lines.at(-1)).toMatchObject({ ok: true, exitCode: 0 });
  });
});
