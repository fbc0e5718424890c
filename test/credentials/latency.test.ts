import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { socketStore } from './helpers.js';

const RUNS = 50;
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

describe('time from submit to credential.stored at an MCP client', () => {
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
    mcp = await McpTestClient.connect(fleetd);
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
  });

  async function timed(name: string, submit: () => Promise<unknown>): Promise<number> {
    const before = mcp.pushed.length;
    const t0 = performance.now();
    await submit();
    await mcp.waitForPushed(`stored ${name}`, (es) => es.slice(before).some((e) => e.topic === 'credential.stored' && e.subject === name), 10_000);
    return performance.now() - t0;
  }

  it(`socket and one-time page, ${RUNS} runs each (goal p50 < 50 ms; asserted < 250 ms)`, { timeout: 120_000 }, async () => {
    const socket: number[] = [];
    const page: number[] = [];
    for (let i = 0; i < RUNS; i++) socket.push(await timed(`sock_${i}`, () => socketStore(fleetd.home, { name: `sock_${i}`, value: `socket-value-${i}-xyz` })));
    for (let i = 0; i < RUNS; i++) {
      const { url } = await mcp.call<{ url: string }>('credential_store_set', { name: `page_${i}` });
      const code = new URL(url).searchParams.get('code')!;
      page.push(
        await timed(`page_${i}`, async () => {
          const res = await fetch(`${fleetd.url}/credentials/enter`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fleetd.url },
            body: new URLSearchParams({ code, value: `page-value-${i}-xyz` }).toString(),
          });
          expect(res.status).toBe(200);
          await res.text();
        }),
      );
    }
    const line = `credential.stored latency over ${RUNS} runs: socket p50 ${p50(socket).toFixed(1)} ms p95 ${p95(socket).toFixed(1)} ms; page p50 ${p50(page).toFixed(1)} ms p95 ${p95(page).toFixed(1)} ms`;
    console.log(line);
    // The goal is 50 ms on a quiet machine (measured: ~6 ms socket, ~9 ms page); the bound leaves room for a loaded CI box.
    expect(p50(socket), line).toBeLessThan(250);
    expect(p50(page), line).toBeLessThan(250);
  });
});
