import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, ROOT } from '../helpers/fleetd.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';

const INSPECTOR = join(ROOT, 'node_modules/.bin/mcp-inspector');

interface Run {
  code: number | null;
  json: { result?: Record<string, unknown>; error?: { message: string } } | undefined;
  out: string;
}

/** Runs the real Inspector CLI (devDependency) once against `url`, with a private home for its catalog. */
function inspector(home: string, url: string, token: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [INSPECTOR, '--cli', `${url}/mcp`, '--header', `Authorization: Bearer ${token}`, '--format', 'json', ...args], { env: { ...process.env, HOME: home }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      let json: Run['json'];
      try {
        json = JSON.parse(stdout || stderr) as Run['json'];
      } catch {
        json = undefined;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, json, out: stdout + stderr });
    });
  });
}

describe('MCP Inspector 2.12.0 CLI against a real fleetd', () => {
  let off: FleetdProcess;
  let on: FleetdProcess;
  let home: string;
  beforeAll(async () => {
    off = await new FleetdProcess().start();
    on = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
    home = mkdtempSync(join(tmpdir(), 'fleet-inspector-'));
  }, 60_000);
  afterAll(async () => {
    await off?.dispose();
    await on?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('the Inspector CLI lists tools in each era', async () => {
    // [fleetd, --protocol-era, the era it ends in (undefined: it cannot connect)]
    const cases = [
      [off, 'legacy', '2025-11-25'],
      [off, 'auto', '2025-11-25'],
      [off, 'modern', undefined],
      [on, 'legacy', '2025-11-25'],
      [on, 'auto', '2026-07-28'],
      [on, 'modern', '2026-07-28'],
    ] as const;
    for (const [fleetd, era, endsIn] of cases) {
      const what = `${era} against mcp.modern ${fleetd === on ? 'on' : 'off'}`;
      const proxy = await new RecordingProxy(() => fleetd.url).start();
      try {
        const run = await inspector(home, proxy.url, fleetd.token, ['--method', 'tools/list', '--protocol-era', era]);
        if (endsIn === undefined) {
          // Pinned to 2026-07-28 with no fallback: fleetd without mcp.modern answers discover with 400.
          expect(run.code, what).not.toBe(0);
          expect(run.out, what).toMatch(/did not offer pinned protocol version 2026-07-28/);
          continue;
        }
        expect(run.code, `${what}: ${run.out.slice(-1000)}`).toBe(0);
        expect((run.json?.result?.tools as { name: string }[]).map((t) => t.name), what).toContain('wait_for_events');
        if (endsIn === '2025-11-25') {
          expect(proxy.calls('initialize'), what).toHaveLength(1);
          expect(proxy.calls('tools/list').every((x) => x.protocolVersion === '2025-11-25' && x.sessionId), what).toBe(true);
          expect(proxy.getStreams.length, `${what}: opens the GET stream`).toBeGreaterThanOrEqual(1);
        } else {
          expect(proxy.calls('server/discover').map((x) => x.status), what).toEqual([200]);
          expect(proxy.calls('initialize'), what).toHaveLength(0);
          expect(proxy.calls('tools/list').every((x) => x.protocolVersion === '2026-07-28'), what).toBe(true);
        }
      } finally {
        await proxy.stop();
      }
    }

    // In 2026-07-28 events are a resource: the one-shot CLI reads them from a cursor.
    const published = (await (await on.publish('inspector.probe', 'hello inspector')).json()) as { id: number };
    const read = await inspector(home, on.url, on.token, ['--method', 'resources/read', '--uri', `fleet://events/topic/inspector?after=${published.id - 1}`, '--protocol-era', 'modern']);
    expect(read.code, read.out.slice(-1000)).toBe(0);
    const page = JSON.parse((read.json?.result?.contents as { text: string }[])[0]!.text) as { events: { id: number; message: string }[] };
    expect(page.events.map((e) => [e.id, e.message])).toEqual([[published.id, 'hello inspector']]);
  }, 120_000);
});
