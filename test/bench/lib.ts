/** Shared pieces of the benchmarks: results, processes, memory, percentiles, a NATS server. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/net.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { until } from '../helpers/fleetd.js';

/** One line of the results table: a measure of fleetd, and of NATS doing the same work. */
export interface BenchRow {
  bench: string;
  metric: string;
  unit: string;
  fleetd?: number;
  nats?: number;
  /** What the `nats` column holds for this row when it is not NATS JetStream (e.g. "fleetd --transport stdio"). */
  baseline?: string;
  /** Which way is better, for the ratio's reading. */
  better: 'higher' | 'lower';
  /** The goal from the issue, e.g. ">= 20000"; the row passes when fleetd meets it. */
  goal?: { op: '>=' | '<'; value: number };
  note?: string;
}

export interface BenchEnv {
  /** Starts a fresh nats-server with JetStream on file storage, or undefined when it is not installed. */
  startNats(): Promise<NatsServer | undefined>;
  /** True with --quick: smaller sizes, for a smoke run. */
  quick: boolean;
  say(line: string): void;
}

export interface Bench {
  name: string;
  description: string;
  run(env: BenchEnv): Promise<BenchRow[]>;
}


/** Resident memory of a process in MB: now (VmRSS) and its peak so far (VmHWM). */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest seen. */
export function sampleRss(pid: number, everyMs = 20): { stop(): number } {
  let max = 0;
  const tick = () => {
    try {
      max = Math.max(max, rssMb(pid).rss);
    } catch {
      /* exited */
    }
  };
  tick();
  const t = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(t);
      tick();
      return max;
    },
  };
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Where the Debian package puts nats-server (it is in /usr/sbin, often not on a user's PATH). */
export function findNatsServer(): string | undefined {
  // NATS_SERVER names the binary; set to an empty value it runs the benches without NATS.
  if (process.env.NATS_SERVER !== undefined) return process.env.NATS_SERVER && existsSync(process.env.NATS_SERVER) ? process.env.NATS_SERVER : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) if (d && existsSync(join(d, 'nats-server'))) return join(d, 'nats-server');
  return undefined;
}

export function natsVersion(bin: string): string {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** A nats-server child with JetStream on file storage in a temp dir. */
export class NatsServer {
  proc!: ChildProcess;
  port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'fleet-bench-nats-'));
  private stderr = '';

  constructor(private readonly bin: string) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.proc = spawn(this.bin, ['-js', '-sd', this.dir, '-a', '127.0.0.1', '-p', String(this.port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    await until(`nats-server to listen (${this.stderr})`, () => {
      if (this.proc.exitCode !== null) throw new Error(`nats-server exited: ${this.stderr}`);
      return /Server is ready/.test(this.stderr) || undefined;
    });
    return this;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for `ms` on purpose (pacing a publisher), not to hope something happened. */
export function pace(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
