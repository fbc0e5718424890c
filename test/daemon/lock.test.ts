import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HomeLock } from '../../daemon/lock.js';
import { FLEETD, FleetdProcess, ROOT, tempHome, until } from '../helpers/fleetd.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Racer {
  proc: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

function spawnFleetd(home: string): Racer {
  const proc = spawn(process.execPath, [FLEETD, '--home', home, '--port', '0'], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const r: Racer = { proc, stderr: '', exited: new Promise((res) => proc.once('exit', (code) => res(code))) };
  proc.stderr!.on('data', (d) => (r.stderr += d));
  cleanup.push(() => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
  return r;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

function serverPid(home: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

describe('one fleetd per home', () => {
  it('of two fleetd started together on one home, exactly one holds it and the other exits 3 naming it (5 trials)', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const home = tempHome();
      cleanup.push(() => rmSync(home, { recursive: true, force: true }));
      // What a holder killed -9 leaves (in the note, and in the lock file as fleetd wrote it before
      // SQLite locks): a dead pid. Judging that by pid is where two starters both won.
      const stale = JSON.stringify({ pid: deadPid(), startedAt: new Date().toISOString() });
      writeFileSync(join(home, 'fleetd.lock'), stale, { mode: 0o600 });
      writeFileSync(join(home, 'fleetd.owner'), stale, { mode: 0o600 });
      const racers = [spawnFleetd(home), spawnFleetd(home)];
      // The loser exits at once; the winner writes server.json and keeps running.
      const first = await Promise.race(racers.map((r, i) => r.exited.then((code) => ({ i, code }))));
      const loser = racers[first.i]!;
      const winner = racers[1 - first.i]!;
      expect(first.code, `trial ${trial}: ${loser.stderr}`).toBe(3);
      expect(loser.stderr).toMatch(new RegExp(`^fleetd: fleetd is already running on ${home} \\((pid ${winner.proc.pid}|it is starting)`));
      expect(loser.stderr).toContain('stop it first or use another --home');
      expect(loser.stderr).not.toMatch(/\n\s+at /); // no stack
      await until(`trial ${trial}: the winner to announce itself`, () => {
        if (winner.proc.exitCode !== null) throw new Error(`trial ${trial}: the winner exited too: ${winner.stderr}`);
        return serverPid(home) === winner.proc.pid || undefined;
      });
      winner.proc.kill('SIGKILL');
      await winner.exited;
    }
  }, 240_000);

  it('lets exactly one of four processes racing at one instant hold a home, fresh or with a stale lock (30 trials)', async () => {
    // fleetd processes start too unevenly to meet inside the window; these meet at one instant.
    const dir = tempHome('fleet-lock-racer-');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const racer = join(dir, 'racer.mjs');
    writeFileSync(
      racer,
      `const [lockJs, home, at] = process.argv.slice(2);
const { HomeLock } = await import(lockJs);
const lock = new HomeLock(home + '/fleetd.lock', home);
while (Date.now() < Number(at)) {} // spin to the shared instant
try { await lock.acquire(); process.stdout.write('held\\n'); } catch (e) { process.stdout.write('refused ' + e.code + '\\n'); }
process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); // hold until the test has every answer
`,
    );
    const lockJs = pathToFileURL(join(ROOT, 'dist/daemon/lock.js')).href;
    for (let trial = 0; trial < 30; trial++) {
      const home = tempHome();
      cleanup.push(() => rmSync(home, { recursive: true, force: true }));
      if (trial % 2) writeFileSync(join(home, 'fleetd.lock'), JSON.stringify({ pid: deadPid(), startedAt: new Date().toISOString() }));
      const at = Date.now() + 1000;
      const procs = [0, 1, 2, 3].map(() => spawn(process.execPath, [racer, lockJs, home, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] }));
      const answers = await Promise.all(
        procs.map((p) => new Promise<string>((res) => { let out = ''; p.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) res(out.trim()); }); p.once('exit', () => res(out.trim())); })),
      );
      for (const p of procs) p.stdin!.end();
      await Promise.all(procs.map((p) => new Promise((res) => (p.exitCode !== null ? res(null) : p.once('exit', res)))));
      expect(answers.sort(), `trial ${trial}`).toEqual(['held', 'refused already_running', 'refused already_running', 'refused already_running']);
    }
  }, 120_000);

  it('lets a new fleetd start at once after the holder is killed -9', async () => {
    const d = new FleetdProcess();
    cleanup.push(() => d.dispose());
    await d.start();
    const old = d.proc.pid;
    await d.kill9();
    // What the killed holder leaves behind: its owner note, naming a pid that is gone.
    expect(JSON.parse(readFileSync(join(d.home, 'fleetd.owner'), 'utf8'))).toMatchObject({ pid: old });
    const t0 = Date.now();
    await d.start();
    expect(d.proc.pid).not.toBe(old);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('is not blocked by an owner note naming a live unrelated process (pid reuse after a reboot)', async () => {
    for (const pid of [process.pid, 1]) {
      const d = new FleetdProcess();
      cleanup.push(() => d.dispose());
      writeFileSync(join(d.home, 'fleetd.owner'), JSON.stringify({ pid, startedAt: new Date().toISOString() }), { mode: 0o600 });
      // The format of fleetd before SQLite locks: a JSON lock file naming the pid.
      writeFileSync(join(d.home, 'fleetd.lock'), JSON.stringify({ pid, startedAt: new Date().toISOString() }), { mode: 0o600 });
      await d.start();
      await d.stop();
    }
  });

  it('refuses a second holder in the same process, and frees the home on release', async () => {
    const home = tempHome();
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const a = new HomeLock(join(home, 'fleetd.lock'), home);
    await a.acquire();
    const b = new HomeLock(join(home, 'fleetd.lock'), home);
    await expect(b.acquire()).rejects.toThrow(`fleetd is already running on ${home} (pid ${process.pid}); stop it first or use another --home`);
    await a.release();
    expect(existsSync(join(home, 'fleetd.owner'))).toBe(false);
    await b.acquire();
    await b.release();
  });
});
