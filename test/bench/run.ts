/**
 * `npm run bench [-- NAME...] [--quick] [--list]`: runs every bench (or those whose name
 * starts with a NAME given), each beside its baseline measured in the same run (NATS
 * JetStream for the event log, or what a row's `baseline` names), prints a table and
 * writes .bench/results.json.
 *
 * Benches live in test/bench/*.bench.ts, each exporting `benches: Bench[]` (see lib.ts);
 * a new file there is picked up by itself. fleetd runs from dist/ (npm run build first).
 * Each bench runs in a child process of its own, so one bench's heap (a million NATS
 * messages, a thousand sockets) cannot add GC pauses to the next one's latencies.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FLEETD, ROOT } from '../helpers/fleetd.js';
import { findNatsServer, natsVersion, NatsServer, type Bench, type BenchRow } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const child = args.includes('--child'); // run exactly the named bench, print its rows, exit
const names = args.filter((a) => !a.startsWith('--'));
const ROWS_MARK = 'BENCH_ROWS ';

const benches: Bench[] = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { benches?: Bench[] };
  benches.push(...(mod.benches ?? []));
}

if (args.includes('--list')) {
  for (const b of benches) console.log(`${b.name.padEnd(24)} ${b.description}`);
  process.exit(0);
}

const chosen = names.length ? benches.filter((b) => names.some((n) => b.name === n || b.name.startsWith(`${n}.`) || b.name.startsWith(n))) : benches;
if (chosen.length === 0) {
  console.error(`bench: nothing matches ${names.join(' ')}; see npm run bench -- --list`);
  process.exit(2);
}
if (!existsSync(FLEETD)) {
  console.error(`bench: ${FLEETD} is missing; run npm run build first`);
  process.exit(2);
}

const natsBin = findNatsServer();
if (child) {
  const bench = benches.find((b) => b.name === names[0])!;
  const say = (line: string) => process.stderr.write(`  ${line}\n`);
  const rows = await bench.run({ quick, say, startNats: async () => (natsBin ? new NatsServer(natsBin).start() : undefined) });
  process.stdout.write(`${ROWS_MARK}${JSON.stringify(rows)}\n`);
  process.exit(0);
}
if (!natsBin) {
  console.error(
    'bench: nats-server is not installed, so only fleetd is measured. For the side-by-side NATS JetStream columns install it (Debian/Ubuntu: sudo apt-get install nats-server) and run again.',
  );
}

/** Runs one bench in a fresh child process and returns its rows. */
function runChild(name: string): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', name, ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(ROWS_MARK));
      if (line) resolve(JSON.parse(line.slice(ROWS_MARK.length)) as BenchRow[]);
      else reject(new Error(`bench ${name} exited with ${code} without results${out ? `: ${out.slice(-500)}` : ''}`));
    });
  });
}

const rows: BenchRow[] = [];
const started = Date.now();
for (const b of chosen) {
  process.stderr.write(`bench ${b.name}: ${b.description}\n`);
  const t0 = Date.now();
  try {
    rows.push(...(await runChild(b.name)));
  } catch (e) {
    process.stderr.write(`bench ${b.name} failed: ${(e as Error).stack ?? e}\n`);
    rows.push({ bench: b.name, metric: 'error', unit: '', better: 'higher', note: (e as Error).message });
  }
  process.stderr.write(`bench ${b.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

const fmt = (v: number | undefined, unit: string) => (v === undefined || Number.isNaN(v) ? '-' : unit === 'events/s' || unit === 'msgs/s' ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (r: BenchRow) => (r.fleetd !== undefined && r.nats !== undefined && r.nats > 0 ? r.fleetd / r.nats : undefined);
const pass = (r: BenchRow) => (r.goal === undefined || r.fleetd === undefined ? undefined : r.goal.op === '>=' ? r.fleetd >= r.goal.value : r.fleetd < r.goal.value);
const table = [
  ['bench', 'metric', 'unit', 'fleetd', 'baseline', 'fleetd/baseline', 'baseline is', 'goal', 'met'],
  ...rows.map((r) => {
    const q = ratio(r);
    const p = pass(r);
    return [
      r.bench,
      r.metric,
      r.unit,
      fmt(r.fleetd, r.unit),
      fmt(r.nats, r.unit),
      q === undefined ? '-' : `${q.toFixed(2)}x`,
      r.nats === undefined ? '' : (r.baseline ?? 'NATS JetStream'),
      r.goal ? `${r.goal.op} ${r.goal.value.toLocaleString('en-US')}` : '',
      p === undefined ? '' : p ? 'yes' : 'NO',
    ];
  }),
];
const numeric = (i: number) => i >= 3 && i <= 5;
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
const line = (row: string[]) => `| ${row.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
console.log(line(table[0]!));
console.log(`|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
const notes = rows.filter((r) => r.note);
if (notes.length) {
  console.log('');
  for (const r of notes) console.log(`- ${r.bench} ${r.metric}: ${r.note}`);
}

const out = join(ROOT, '.bench', 'results.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      startedAt: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, nats: natsBin ? natsVersion(natsBin) : null },
      quick,
      rows: rows.map((r) => ({ ...r, ratio: ratio(r), met: pass(r) })),
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${out} (${Math.round((Date.now() - started) / 1000)} s)`);
