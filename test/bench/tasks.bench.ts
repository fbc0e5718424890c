/**
 * Issue 18 benchmark: background tasks told, not polled. N tasks run at once on M members
 * (real sshd on loopback), each blocked on a FIFO of its own, beside N more held running
 * throughout (FLEET_BENCH_HOLD; default settings, so the 5 s fallback poll runs over all of
 * them); the bench releases the N one by one (spread, as independent jobs end) and measures
 * remote exit (`date` in the task, the last thing it does) → task.completed at an MCP client. Beside it, in the same run, an
 * agent polling monitor_task every second for a sample of the tasks (what clients do without
 * push): exit → the poll that first sees the task ended. Also fleetd's CPU time and RSS over
 * the run, and fleetd's own share per task (FLEET_TASK_TIMING: exit line heard → tails read
 * → committed). Goal (issue 18): p50 < 50 ms, p99 < 250 ms with 200 running.
 * `npm run bench -- tasks [--quick]`, or alone: `node --import tsx test/bench/tasks.bench.ts [--quick]`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient, type FleetEventLike } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { recordArrivals, release } from '../tasks/lib.js';
import { percentile, sampleRss, type Bench, type BenchEnv, type BenchRow } from './lib.js';

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz on Linux)
}

async function runTasks(env: BenchEnv): Promise<BenchRow[]> {
  const tasks = Number(process.env.FLEET_BENCH_TASKS) || (env.quick ? 40 : 200);
  const memberCount = env.quick ? 4 : 10;
  const polled = env.quick ? 10 : 20;
  const holding = Number(process.env.FLEET_BENCH_HOLD ?? tasks);
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-tasks-'));
  const hold = join(dir, 'hold');
  execFileSync('mkfifo', [hold]);
  let holdFd: number | undefined;
  const sshds: Sshd[] = [];
  let fleetd: FleetdProcess | undefined;
  const clients: McpTestClient[] = [];
  try {
    env.say(`starting ${memberCount} sshd and fleetd`);
    sshds.push(...(await Promise.all(Array.from({ length: memberCount }, () => Sshd.start()))));
    // Default task settings (the fallback poll every 5 s runs too, as it would).
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS }, env: { FLEET_TASK_TIMING: '1' } }).start();
    const mcp = await McpTestClient.connect(fleetd);
    clients.push(mcp);
    const byEventId = recordArrivals(mcp);
    for (const [i, s] of sshds.entries()) await mcp.call('register_member', sshMember(`m${i}`, s));

    // One at a time: concurrent calls that leave sockets idle on a loaded machine hit the
    // HTTP keep-alive race ("other side closed"), which is not what this bench measures.
    const startOne = async (member: string, command: string): Promise<string> => {
      const r = await mcp.call<{ results: { ok: boolean; id?: string; error?: { message: string } }[] }>('execute_command', { member, command, background: true });
      if (!r.results[0]!.ok) throw new Error(r.results[0]!.error!.message);
      return r.results[0]!.id!;
    };
    // Held tasks keep running through the measurement, so every measured end happens with at
    // least `holding` others running. They wait on one FIFO the bench holds open (their opens
    // never block) and end when it writes them a line each, at the end.
    holdFd = openSync(hold, constants.O_RDWR);
    env.say(`starting ${holding} held tasks and ${tasks} measured ones on ${memberCount} members`);
    for (let i = 0; i < holding; i++) await startOne(`m${i % memberCount}`, `read _ < ${hold}`);
    const fifos = Array.from({ length: tasks }, (_, i) => join(dir, `f${i}`));
    for (const f of fifos) execFileSync('mkfifo', [f]);
    const ids: string[] = [];
    const startedAt = performance.now();
    for (const [i, f] of fifos.entries()) ids.push(await startOne(`m${i % memberCount}`, `read _ < ${f}; date +%s%3N`));
    const startMs = (performance.now() - startedAt) / tasks;

    // The baseline: another agent polling monitor_task every second for a sample of the tasks.
    const poller = await McpTestClient.connect(fleetd);
    clients.push(poller);
    const sample = ids.filter((_, i) => i % Math.floor(tasks / polled) === 0).slice(0, polled);
    const seenEnded = new Map<string, number>();
    let polling = true;
    const pollLoop = (async () => {
      while (polling) {
        const t0 = Date.now();
        await Promise.all(
          sample
            .filter((id) => !seenEnded.has(id))
            .map(async (id) => {
              const r = await poller.call<{ task: { state: string } }>('monitor_task', { task_id: id });
              if (r.task.state !== 'running' && r.task.state !== 'starting') seenEnded.set(id, Date.now());
            }),
        );
        if (seenEnded.size === sample.length) break;
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t0))));
      }
    })();

    env.say(`releasing the ${tasks} tasks one by one, 20 ms apart`);
    const cpu0 = cpuSeconds(fleetd.proc.pid!);
    const rss = sampleRss(fleetd.proc.pid!, 50);
    const t0 = performance.now();
    for (const f of fifos) await release(f, 20);
    // Linear per check: this runs on every notification, in the process that timestamps them.
    const allDone = (es: FleetEventLike[]) => {
      const done = new Set(es.filter((e) => e.topic === 'task.completed').map((e) => e.subject));
      return ids.every((id) => done.has(id));
    };
    await mcp.waitForPushed(`${tasks} completions`, allDone, 120_000);
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(fleetd.proc.pid!) - cpu0;
    const rssMax = rss.stop();
    await pollLoop;
    polling = false;

    const exitedAt = new Map<string, number>();
    const arrivals = new Map<string, number>();
    for (const e of mcp.pushed) {
      if (e.topic !== 'task.completed' || !e.subject) continue;
      exitedAt.set(e.subject, Number(String((e.data as { stdoutTail: string }).stdoutTail).trim()));
      arrivals.set(e.subject, byEventId.get(e.id)!);
    }
    const pushed = ids.map((id) => arrivals.get(id)! - exitedAt.get(id)!);
    const polledLat = sample.map((id) => seenEnded.get(id)! - exitedAt.get(id)!);
    const timing = [...fleetd.stderr.matchAll(/task-timing (t-\w+) heard ([\d.]+) tails ([\d.]+) commit ([\d.]+)/g)].map((m) => ({ id: m[1]!, heard: Number(m[2]), tails: Number(m[3]), commit: Number(m[4]) }));
    const share = timing.map((t) => t.tails + t.commit);
    // Where the rest goes: the member (wrapper exit → exit line → tail -F → sshd → fleetd) and the push (commit → client).
    const told = timing.filter((t) => exitedAt.has(t.id) && arrivals.has(t.id));
    const memberPart = told.map((t) => t.heard - exitedAt.get(t.id)!);
    const pushPart = told.map((t) => arrivals.get(t.id)! - (t.heard + t.tails + t.commit));
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const f1 = (v: number) => v.toFixed(1);
    return [
      { bench: 'tasks.notify', metric: `remote exit → task.completed pushed, p50 (${tasks} ending, ${holding} more running, ${memberCount} members)`, unit: 'ms', fleetd: percentile(pushed, 50), nats: percentile(polledLat, 50), baseline: 'monitor_task poll every 1 s', better: 'lower', goal: { op: '<', value: 50 } },
      { bench: 'tasks.notify', metric: 'remote exit → task.completed pushed, p99', unit: 'ms', fleetd: percentile(pushed, 99), nats: percentile(polledLat, 99), baseline: 'monitor_task poll every 1 s', better: 'lower', goal: { op: '<', value: 250 }, note: `load average at the end ${load} (${cpus().length} cores)` },
      {
        bench: 'tasks.notify',
        metric: "fleetd's share: exit line heard → committed, p50",
        unit: 'ms',
        fleetd: percentile(share, 50),
        better: 'lower',
        note: `member side (exit → line heard) p50 ${f1(percentile(memberPart, 50))} ms p99 ${f1(percentile(memberPart, 99))}; push (committed → client) p50 ${f1(percentile(pushPart, 50))} ms p99 ${f1(percentile(pushPart, 99))}; tails p50 ${f1(percentile(timing.map((t) => t.tails), 50))} ms p99 ${f1(percentile(timing.map((t) => t.tails), 99))}; commit p50 ${f1(percentile(timing.map((t) => t.commit), 50))} ms p99 ${f1(percentile(timing.map((t) => t.commit), 99))}; share p99 ${f1(percentile(share, 99))} ms`,
      },
      { bench: 'tasks.start', metric: 'execute_command background: true, per task', unit: 'ms', fleetd: startMs, better: 'lower', note: 'one after another' },
      { bench: 'tasks.cost', metric: `fleetd CPU while ${tasks} tasks end (${holding} more running)`, unit: '% of a core', fleetd: (cpu / wall) * 100, better: 'lower', note: `${f1(cpu)} s CPU over ${f1(wall)} s` },
      { bench: 'tasks.cost', metric: 'fleetd peak RSS', unit: 'MB', fleetd: rssMax, better: 'lower' },
    ];
  } catch (e) {
    if (process.env.BENCH_DEBUG) console.error(fleetd?.stderr.slice(-4000), fleetd?.proc.exitCode, fleetd?.proc.signalCode);
    throw e;
  } finally {
    if (holdFd !== undefined) {
      writeSync(holdFd, 'x\n'.repeat(holding));
      closeSync(holdFd);
    }
    for (const c of clients) await c.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all(sshds.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benches: Bench[] = [
  {
    name: 'tasks',
    description: 'background tasks: remote exit → task.completed at an MCP client (200 running on 10 members) vs polling monitor_task every second; fleetd CPU and RSS',
    run: runTasks,
  },
];

// Alone: node --import tsx test/bench/tasks.bench.ts [--quick]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runTasks({ quick: process.argv.includes('--quick'), say: (l) => process.stderr.write(`  ${l}\n`), startNats: async () => undefined });
  for (const r of rows) process.stdout.write(`${r.bench.padEnd(14)} ${r.metric.padEnd(72)} ${r.fleetd!.toFixed(1).padStart(8)} ${r.unit}${r.nats !== undefined ? `  (baseline ${r.nats.toFixed(1)}, ratio ${(r.fleetd! / r.nats).toFixed(3)}x)` : ''}${r.note ? `\n${' '.repeat(15)}${r.note}` : ''}\n`);
}
