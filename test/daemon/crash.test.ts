import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../shared/events.js';
import { FLEETD, FleetdProcess, tempHome, until } from '../helpers/fleetd.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Every event in the daemon's log, read with JSON paging from id 0. */
async function readAll(d: FleetdProcess): Promise<FleetEvent[]> {
  const out: FleetEvent[] = [];
  let cursor = 0;
  for (;;) {
    const res = await d.fetch(`/events?since=${cursor}&limit=10000`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { events: FleetEvent[]; cursor: number; lastId: number };
    out.push(...page.events);
    cursor = page.cursor;
    if (page.events.length === 0 || cursor >= page.lastId) return out;
  }
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Runs a second fleetd to completion and returns its exit code and stderr. */
function runFleetd(home: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETD, '--home', home, '--port', '0'], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('fleetd under kill -9', () => {
  it('keeps every acknowledged event exactly once, with increasing ids never reused, across kills in the middle of a burst', { timeout: 120_000 }, async () => {
    const d = new FleetdProcess();
    cleanup.push(() => d.dispose());
    const acked = new Map<string, number>(); // message -> id the daemon answered with
    let maxIdSeen = 0;

    for (let round = 0; round < 3; round++) {
      await d.start();
      const pid = d.proc.pid!;
      let stop = false;
      const loops = Array.from({ length: 8 }, async (_, loop) => {
        for (let i = 0; !stop; i++) {
          const message = `r${round}-l${loop}-${i}`;
          let res: Response;
          try {
            res = await d.publish('crash.burst', message, { data: { round, loop, i } });
          } catch {
            return; // the daemon died under us: this one's outcome is unknown, which is allowed
          }
          if (res.status === 201) {
            const e = (await res.json().catch(() => undefined)) as FleetEvent | undefined;
            if (!e) return; // body cut by the kill: not acknowledged
            expect(e.message).toBe(message);
            acked.set(message, e.id);
          } else {
            throw new Error(`POST /events answered ${res.status}: ${await res.text()}`);
          }
        }
      });
      const target = acked.size + 300 + round * 100;
      await until(`${target} acknowledged events in round ${round}`, () => acked.size >= target, 30_000, 1);
      await d.kill9(); // mid-burst: the eight loops are still posting
      stop = true;
      await Promise.all(loops);

      // kill -9 leaves its owner note and server.json behind, naming a dead pid (the kernel dropped the lock).
      const owner = JSON.parse(readFileSync(join(d.home, 'fleetd.owner'), 'utf8')) as { pid: number };
      expect(owner.pid).toBe(pid);
      expect(existsSync(join(d.home, 'server.json'))).toBe(true);

      // Restart on the same home: nothing stale blocks it.
      await d.start();
      expect((JSON.parse(readFileSync(join(d.home, 'fleetd.owner'), 'utf8')) as { pid: number }).pid).toBe(d.proc.pid);
      const events = await readAll(d);
      const ids = events.map((e) => e.id);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);

      const byMessage = new Map<string, FleetEvent[]>();
      for (const e of events.filter((e) => e.topic === 'crash.burst')) byMessage.set(e.message, [...(byMessage.get(e.message) ?? []), e]);
      for (const [message, id] of acked) {
        const found = byMessage.get(message);
        expect(found, `acknowledged ${message} (id ${id}) is missing after kill -9`).toBeDefined();
        expect(found!.length, `${message} stored more than once`).toBe(1);
        expect(found![0]!.id).toBe(id);
      }
      for (const [message, list] of byMessage) expect(list.length, `${message} stored more than once`).toBe(1);
      // Every event of this round got an id above everything the previous run had handed out.
      const thisRound = events.filter((e) => e.topic === 'crash.burst' && (e.data as { round: number }).round === round);
      expect(thisRound.length).toBeGreaterThan(0);
      expect(Math.min(...thisRound.map((e) => e.id))).toBeGreaterThan(maxIdSeen);

      // Nothing after the restart reuses an id from before it.
      const started = events.filter((e) => e.topic === 'fleet.started');
      const newest = started[started.length - 1]!;
      expect(newest.data).toMatchObject({ pid: d.proc.pid });
      const before = events.filter((e) => e.id < newest.id);
      expect(before.length).toBeGreaterThan(0);
      expect(newest.id).toBeGreaterThan(Math.max(maxIdSeen, ...before.map((e) => e.id)));
      const fresh = (await (await d.publish('crash.after', `after round ${round}`)).json()) as FleetEvent;
      expect(fresh.id).toBeGreaterThan(newest.id);
      maxIdSeen = fresh.id;
      await d.kill9();
    }
    expect(acked.size).toBeGreaterThanOrEqual(1200);
  });
});

describe('fleetd home and lifecycle', () => {
  it('refuses a second fleetd on the same home, naming the running pid and url', async () => {
    const d = new FleetdProcess();
    cleanup.push(() => d.dispose());
    await d.start();
    const second = await runFleetd(d.home);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`pid ${d.proc.pid}`);
    expect(second.stderr).toContain(d.url);
    expect(second.stderr).toMatch(/already running/);
    // The first one is unharmed and still owns the home.
    expect((await d.fetch('/status')).status).toBe(200);
    expect((JSON.parse(readFileSync(join(d.home, 'server.json'), 'utf8')) as { pid: number }).pid).toBe(d.proc.pid);
    await d.stop();
  });

  it('makes a private home, writes server.json 0600, removes it and logs fleet.started/fleet.stopping on SIGTERM', async () => {
    const parent = tempHome();
    cleanup.push(() => rmSync(parent, { recursive: true, force: true }));
    const home = join(parent, 'nested', 'home');
    const d = new FleetdProcess({ home });
    cleanup.push(() => d.dispose());
    await d.start();

    expect(mode(home)).toBe(0o700);
    const serverJson = join(home, 'server.json');
    expect(mode(serverJson)).toBe(0o600);
    const info = JSON.parse(readFileSync(serverJson, 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ pid: d.proc.pid, url: d.url, home });
    expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.port).toBe(Number(new URL(d.url).port));
    expect(typeof info.version).toBe('string');
    expect(Date.parse(info.startedAt as string)).not.toBeNaN();
    expect(mode(join(home, 'token'))).toBe(0o600);
    expect(readFileSync(join(home, 'token'), 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    await d.publish('perm.check', 'make the WAL grow');
    for (const name of readdirSync(home)) {
      const p = join(home, name);
      expect(mode(p), name).toBe(statSync(p).isDirectory() ? 0o700 : 0o600);
    }

    const token = d.token;
    expect(await d.stop()).toBe(0);
    expect(existsSync(serverJson)).toBe(false);
    expect(existsSync(join(home, 'fleetd.owner'))).toBe(false); // the lock file stays: only its kernel lock is dropped

    await d.start();
    expect(d.token).toBe(token); // the token is made once
    const events = await readAll(d);
    expect(events.map((e) => e.topic)).toEqual(['fleet.started', 'perm.check', 'fleet.stopping', 'fleet.started']);
    expect(events[2]!.message).toMatch(/SIGTERM/);
    expect(events[3]!.data).toMatchObject({ pid: d.proc.pid, url: d.url });
    await d.stop();
  });
});
