/**
 * Issue 20 benchmarks: file watches on a member (sshd on loopback, logged in as root with a
 * plain start-up).
 *  - watch.latency  a file written on the member → its file.changed at an MCP client, p50 and
 *    p95, with inotify and with polling (default watch settings: poll every 2 s, debounce 0.2 s)
 *  - watch.cost     50 polling watches on one member (each a folder of 100 files): CPU on the
 *    member (sshd sessions, their shells and what they run) and in fleetd, in % of one core
 * Runs under test/bench/run.ts (`npm run bench -- watch`) or alone:
 * `node --import tsx test/bench/watch.bench.ts [--quick]`. Needs `npm run build`, inotify-tools and root.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient, type FleetEventLike } from '../helpers/mcp.js';
import { sshMember } from '../helpers/members.js';
import { descendants, Sshd } from '../helpers/sshd.js';
import { recordArrivals } from '../tasks/lib.js';
import { percentile, type Bench, type BenchEnv, type BenchRow } from './lib.js';

const TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU ticks a process and its reaped children used (utime + stime + cutime + cstime). */
function ticks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** CPU ticks of sshd's sessions, counted per process so one that ends mid-window still counts through its parent. */
function memberTicks(sshdPid: number): Map<number, number> {
  return new Map(descendants(sshdPid).map((p) => [p, ticks(p)]));
}

/** Ticks used between two samples of the same process tree (processes new in the second count from 0). */
function usedTicks(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

/** Writes a file on the member and measures until its file.changed reaches the MCP client. */
async function latencies(mcp: McpTestClient, at: Map<number, number>, folder: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(folder, `f${i}.txt`);
    const t0 = Date.now();
    writeFileSync(path, `${i}\n`);
    const isIt = (e: FleetEventLike) => e.topic === 'file.changed' && (e.data as { path: string }).path === path;
    await mcp.waitForPushed(`file.changed ${path}`, (es) => es.some(isIt), 15_000);
    out.push(at.get(mcp.pushed.find(isIt)!.id)! - t0);
    // Spread the writes over the poll period, so polling is measured at random phases.
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 700));
  }
  return out.sort((a, b) => a - b);
}

async function run(env: BenchEnv): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-watch-bench-'));
  const sshd = await Sshd.start();
  const fleetd = await new FleetdProcess({ config: { members: { keepaliveInterval: 5 } } }).start();
  const rows: BenchRow[] = [];
  try {
    const mcp = await McpTestClient.connect(fleetd);
    const at = recordArrivals(mcp);
    await mcp.call('register_member', sshMember('box', sshd));
    const n = env.quick ? 8 : 30;
    for (const method of ['inotify', 'poll'] as const) {
      const folder = join(dir, `latency-${method}`);
      mkdirSync(folder);
      await mcp.call('watch_files', { member: 'box', path: folder, method });
      const l = await latencies(mcp, at, folder, n);
      env.say(`${method}: p50 ${percentile(l, 50)} ms, p95 ${percentile(l, 95)} ms over ${n} writes`);
      rows.push({ bench: 'watch.latency', metric: `${method} p50`, unit: 'ms', fleetd: percentile(l, 50), better: 'lower', note: method === 'poll' ? 'watch.pollInterval 2 s, debounce 0.2 s (defaults)' : undefined });
      rows.push({ bench: 'watch.latency', metric: `${method} p95`, unit: 'ms', fleetd: percentile(l, 95), better: 'lower' });
    }
    const { watches } = await mcp.call<{ watches: { id: string }[] }>('list_watches');
    for (const w of watches) await mcp.call('unwatch_files', { watch_id: w.id });

    // 50 polling watches, each on a folder of 100 files; nothing changes while they are measured.
    const count = 50;
    for (let i = 0; i < count; i++) {
      const folder = join(dir, `cost-${i}`);
      mkdirSync(folder);
      for (let j = 0; j < 100; j++) writeFileSync(join(folder, `file-${j}`), 'x');
      await mcp.call('watch_files', { member: 'box', path: folder, method: 'poll' });
    }
    const sshdPid = (sshd as unknown as { proc: { pid: number } }).proc.pid;
    await until('every watch running', async () => ((await mcp.call<{ watches: { state: string }[] }>('list_watches')).watches.every((w) => w.state === 'running') || undefined), 60_000, 200);
    const windowS = env.quick ? 10 : 30;
    const fleetdBefore = ticks(fleetd.proc.pid!);
    const memberBefore = memberTicks(sshdPid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const seconds = (performance.now() - t0) / 1000;
    const fleetdPct = ((ticks(fleetd.proc.pid!) - fleetdBefore) / TICKS_PER_S / seconds) * 100;
    const memberPct = (usedTicks(memberBefore, memberTicks(sshdPid)) / TICKS_PER_S / seconds) * 100;
    env.say(`50 polling watches: member ${memberPct.toFixed(1)} % of a core, fleetd ${fleetdPct.toFixed(1)} % over ${seconds.toFixed(0)} s`);
    rows.push({ bench: 'watch.cost', metric: '50 poll watches: member CPU', unit: '% core', fleetd: memberPct, better: 'lower', note: '50 folders x 100 files, unchanged, polled every 2 s' });
    rows.push({ bench: 'watch.cost', metric: '50 poll watches: fleetd CPU', unit: '% core', fleetd: fleetdPct, better: 'lower' });
    await mcp.close();
  } finally {
    await fleetd.dispose();
    await sshd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export const benches: Bench[] = [{ name: 'watch', description: 'file change → file.changed latency (inotify, polling); CPU of 50 polling watches', run }];

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ quick: process.argv.includes('--quick'), say: (l) => console.error(`  ${l}`), startNats: async () => undefined });
  console.log(JSON.stringify(rows, null, 2));
}
