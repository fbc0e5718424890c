import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FLEETD = join(ROOT, 'dist/daemon/main.js');
export const FLEETCTL = join(ROOT, 'dist/daemon/fleetctl/main.js');
export const BRIDGE = join(ROOT, 'dist/bridge/main.js');

/** A fresh private FLEET_HOME under the OS temp folder. */
export function tempHome(prefix = 'fleet-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls `check` until it returns a value, failing after `timeoutMs` with `what` in the message. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface FleetdOptions {
  home?: string;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
}

/** A real fleetd child process on a temp home and a free port. */
export class FleetdProcess {
  readonly home: string;
  proc!: ChildProcess;
  url = '';
  token = '';
  stderr = '';
  private exited!: Promise<number | null>;

  constructor(private readonly opts: FleetdOptions = {}) {
    this.home = opts.home ?? tempHome();
    if (opts.config) writeFileSync(join(this.home, 'config.json'), JSON.stringify(opts.config), { mode: 0o600 });
  }

  /** Starts the daemon and waits until server.json names this process and /health answers. */
  async start(): Promise<this> {
    this.stderr = '';
    this.proc = spawn(process.execPath, [FLEETD, '--home', this.home, '--port', '0', ...(this.opts.args ?? [])], {
      env: { ...process.env, FLEET_TOKEN: '', ...this.opts.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
    const pid = this.proc.pid;
    const info = await until(`fleetd to write server.json (stderr: ${this.stderr})`, () => {
      if (this.proc.exitCode !== null) throw new Error(`fleetd exited with ${this.proc.exitCode}: ${this.stderr}`);
      try {
        const s = JSON.parse(readFileSync(join(this.home, 'server.json'), 'utf8')) as { pid: number; url: string };
        return s.pid === pid ? s : undefined;
      } catch {
        return undefined;
      }
    });
    this.url = info.url;
    this.token = readFileSync(join(this.home, 'token'), 'utf8').trim();
    await until('fleetd /health', async () => (await fetch(`${this.url}/health`).catch(() => undefined))?.ok || undefined);
    return this;
  }

  /** Authorization header for this daemon. */
  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** fetch against the daemon with the token. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { ...init, headers: { ...this.auth, ...(init.headers as Record<string, string>) } });
  }

  /** POST /events; returns the response. */
  publish(topic: string, message: string, extra: Record<string, unknown> = {}): Promise<Response> {
    return this.fetch('/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic, message, ...extra }) });
  }

  /** SIGKILL: no chance to flush or clean up. */
  async kill9(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    return this.exited;
  }

  /** Stops the daemon and removes its home. */
  async dispose(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Runs fleetctl to completion and returns its exit code and output. */
export function fleetctl(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETCTL, ...args], { env: { ...process.env, FLEET_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
