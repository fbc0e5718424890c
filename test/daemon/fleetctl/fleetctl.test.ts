import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../../shared/events.js';
import { FLEETCTL, FleetdProcess, fleetctl, tempHome, until } from '../../helpers/fleetd.js';

let d: FleetdProcess;
const children: ChildProcess[] = [];
const homes: string[] = [];

beforeAll(async () => {
  d = await new FleetdProcess().start();
  await publish('deploy.started', 'deploy of web started', { subject: 'web', level: 'notice' });
  await publish('deploy.finished', 'web deployed', { subject: 'web', data: { sha: 'abc123' } });
  await publish('backup.failed', 'nightly backup failed: disk full', { level: 'error' });
  await publish('deploy.started', 'deploy of api started', { subject: 'api' });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await d?.dispose();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

async function publish(topic: string, message: string, extra: Record<string, unknown> = {}): Promise<FleetEvent> {
  const res = await d.publish(topic, message, extra);
  expect(res.status).toBe(201);
  return (await res.json()) as FleetEvent;
}

async function logAfter(after = 0, topic?: string): Promise<FleetEvent[]> {
  const q = new URLSearchParams({ since: String(after), limit: '10000' });
  if (topic) q.set('topic', topic);
  const res = await d.fetch(`/events?${q}`, { headers: { accept: 'application/json' } });
  return ((await res.json()) as { events: FleetEvent[] }).events;
}

const ctl = (...args: string[]) => fleetctl(['--home', d.home, ...args]);
const lines = (out: string) => out.split('\n').filter((l) => l.length > 0);

/** The local wall-clock time a human line should show for an event. */
function localTime(ts: string): string {
  const t = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

describe('fleetctl events', () => {
  it('prints one human line per event (id, local time, level, topic, subject, message), matching the log', async () => {
    const { code, stdout, stderr } = await ctl('events', '--since', '0');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const log = await logAfter(0);
    const out = lines(stdout);
    expect(out).toHaveLength(log.length);
    expect(stdout).not.toContain('\x1b['); // no colour when stdout is not a terminal
    out.forEach((line, i) => {
      const e = log[i]!;
      const fields = line.trim().split(/ {2,}/);
      expect(fields, line).toEqual([String(e.id), localTime(e.ts), e.level, e.topic, e.subject ?? '-', e.message]);
    });
    expect(out.some((l) => /\bweb\b.*web deployed$/.test(l))).toBe(true);
  });

  it('prints one JSON event per line with --json, equal to the log', async () => {
    const { code, stdout } = await ctl('events', '--since', '0', '--json');
    expect(code).toBe(0);
    expect(lines(stdout).map((l) => JSON.parse(l))).toEqual(await logAfter(0));
  });

  it('starts after an id, at a time, or a duration ago', async () => {
    const log = await logAfter(0);
    const byId = await ctl('events', '--since', String(log[1]!.id), '--json');
    expect(lines(byId.stdout).map((l) => (JSON.parse(l) as FleetEvent).id)).toEqual(log.slice(2).map((e) => e.id));
    const byTime = await ctl('events', '--since', log[0]!.ts, '--json');
    expect(lines(byTime.stdout).map((l) => (JSON.parse(l) as FleetEvent).id)).toEqual(log.filter((e) => e.ts >= log[0]!.ts).map((e) => e.id));
    const byDefault = await ctl('events', '--json'); // the last hour
    expect(lines(byDefault.stdout).map((l) => JSON.parse(l))).toEqual(log);
    const bad = await ctl('events', '--since', 'last tuesday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^fleetctl: --since "last tuesday" is not accepted: give an event id/);
  });

  it('filters with --topic (repeated or comma-separated globs)', async () => {
    for (const args of [['--topic', 'deploy.*'], ['-t', 'deploy.started', '-t', 'deploy.finished'], ['--topic', 'deploy.started,deploy.finished']]) {
      const { code, stdout } = await ctl('events', '--since', '0', '--json', ...args);
      expect(code).toBe(0);
      const got = lines(stdout).map((l) => JSON.parse(l) as FleetEvent);
      expect(got.map((e) => e.topic), args.join(' ')).toEqual(['deploy.started', 'deploy.finished', 'deploy.started']);
      expect(got).toEqual(await logAfter(0, 'deploy.*'));
    }
    const bad = await ctl('events', '--since', '0', '--topic', 'a..b');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bad topic glob/);
  });

  it('stops after --limit events, across pages', async () => {
    const two = await ctl('events', '--since', '0', '--json', '--limit', '2');
    expect(lines(two.stdout).map((l) => JSON.parse(l))).toEqual((await logAfter(0)).slice(0, 2));

    // More than one page (the CLI reads 1000 at a time).
    const before = (await logAfter(0)).at(-1)!.id;
    await Promise.all(Array.from({ length: 1200 }, (_, i) => publish('bulk.item', `item ${i}`)));
    const many = await ctl('events', '--since', String(before), '--json', '--limit', '1100');
    const got = lines(many.stdout).map((l) => (JSON.parse(l) as FleetEvent).id);
    expect(got).toHaveLength(1100);
    expect(got).toEqual((await logAfter(before)).slice(0, 1100).map((e) => e.id));
    const all = await ctl('events', '--since', String(before), '--json');
    expect(lines(all.stdout)).toHaveLength(1200);
  });
});

describe('fleetctl publish and status', () => {
  it('publishes an event that then shows in the log and in fleetctl events', async () => {
    const { code, stdout, stderr } = await ctl('publish', 'hook.ran', 'pre-commit hook ran', '--level', 'warning', '--subject', 'repo-a', '--data', '{"files":3}');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const m = /^published event (\d+) \(hook\.ran\)$/.exec(stdout.trim());
    expect(m, stdout).not.toBeNull();
    const id = Number(m![1]);
    const [stored] = await logAfter(id - 1);
    expect(stored).toMatchObject({ id, topic: 'hook.ran', level: 'warning', subject: 'repo-a', message: 'pre-commit hook ran', data: { files: 3 } });
    const shown = await ctl('events', '--since', String(id - 1), '--json');
    expect(lines(shown.stdout).map((l) => JSON.parse(l))).toEqual([stored]);

    const json = await ctl('publish', 'hook.ran', 'again', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ id: id + 1, topic: 'hook.ran', message: 'again', level: 'info' });
  });

  it('refuses reserved topics and bad --data with a clear message and a non-zero exit', async () => {
    const reserved = await ctl('publish', 'member.online', 'spoofed');
    expect(reserved.code).not.toBe(0);
    expect(reserved.stderr).toMatch(/reserved/);
    const badData = await ctl('publish', 'x.y', 'm', '--data', '{nope');
    expect(badData.code).not.toBe(0);
    expect(badData.stderr).toMatch(/--data is not valid JSON/);
  });

  it('shows url, pid, last event id and events held', async () => {
    const last = await publish('status.check', 'for status');
    const { code, stdout } = await ctl('status');
    expect(code).toBe(0);
    expect(stdout).toMatch(/fleetd .* is running/);
    expect(stdout).toMatch(new RegExp(`url:\\s+${d.url.replace(/[.]/g, '\\.')}\\n`));
    expect(stdout).toMatch(new RegExp(`pid:\\s+${d.proc.pid}\\n`));
    expect(stdout).toMatch(new RegExp(`last event:\\s+${last.id}\\n`));
    expect(stdout).toMatch(/events held:\s+\d+/);
    expect(stdout).toMatch(/up since:/);
    const json = JSON.parse((await ctl('status', '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ url: d.url, pid: d.proc.pid, lastEventId: last.id });
  });
});

describe('fleetctl with no daemon running', () => {
  it('says fleetd is not running and how to start it, with a non-zero exit', async () => {
    const empty = tempHome();
    homes.push(empty);
    // Also a home whose server.json names a process that is gone (left by kill -9).
    const stale = tempHome();
    homes.push(stale);
    writeFileSync(join(stale, 'token'), 'x\n', { mode: 0o600 });
    writeFileSync(join(stale, 'server.json'), JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:9', port: 9 }), { mode: 0o600 });
    for (const home of [empty, stale]) {
      for (const args of [['events'], ['events', '--follow'], ['status'], ['publish', 'a.b', 'm']]) {
        const r = await fleetctl(['--home', home, ...args]);
        expect(r.code, `${args.join(' ')} on ${home}`).not.toBe(0);
        expect(r.stderr, args.join(' ')).toMatch(/fleetd is not running.*start it with/);
        expect(r.stdout).toBe('');
      }
    }
  });
});

describe('fleetctl events --follow', () => {
  it('without --since prints only events published after it started, and stops after --limit', async () => {
    const old = await publish('follow.now', 'before the follower');
    const streamsBefore = ((await (await d.fetch('/status')).json()) as { sseStreams: number }).sseStreams;
    const child = spawn(process.execPath, [FLEETCTL, '--home', d.home, 'events', '--follow', '--json', '--limit', '2'], {
      env: { ...process.env, FLEET_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (c) => (stdout += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await until('fleetctl to open its stream', async () => ((await (await d.fetch('/status')).json()) as { sseStreams: number }).sseStreams > streamsBefore || undefined);
    const a = await publish('follow.now', 'first');
    const b = await publish('follow.now', 'second');
    await publish('follow.now', 'third, after the limit');
    expect(await exited).toBe(0);
    expect(lines(stdout).map((l) => (JSON.parse(l) as FleetEvent).id)).toEqual([a.id, b.id]);
    expect(stdout).not.toContain(old.message);
  });

  it('reconnects by itself across a daemon restart: every event once, no gap, no duplicate', { timeout: 90_000 }, async () => {
    const f = new FleetdProcess();
    try {
      await f.start();
      const child = spawn(process.execPath, [FLEETCTL, '--home', f.home, 'events', '--follow', '--json', '--since', '0'], {
        env: { ...process.env, FLEET_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const got: FleetEvent[] = [];
      let stderr = '';
      child.stderr!.on('data', (c) => (stderr += c));
      createInterface({ input: child.stdout! }).on('line', (l) => got.push(JSON.parse(l) as FleetEvent));
      const pub = async (topic: string, message: string) => {
        const res = await f.publish(topic, message);
        expect(res.status).toBe(201);
        return (await res.json()) as FleetEvent;
      };

      const before: FleetEvent[] = [];
      for (let i = 0; i < 20; i++) before.push(await pub('follow.before', `b${i}`));
      await until('fleetctl to print the events before the restart', () => got.some((e) => e.id === before.at(-1)!.id) || undefined, 20_000);

      const oldUrl = f.url;
      expect(await f.stop()).toBe(0);
      await f.start(); // same home, a new free port
      expect(f.url).not.toBe(oldUrl);
      const after: FleetEvent[] = [];
      for (let i = 0; i < 20; i++) after.push(await pub('follow.after', `a${i}`));

      await until('fleetctl to print the events after the restart', () => got.some((e) => e.id === after.at(-1)!.id) || undefined, 30_000);
      const res = await f.fetch('/events?since=0&limit=10000', { headers: { accept: 'application/json' } });
      const log = ((await res.json()) as { events: FleetEvent[] }).events;
      expect(got.map((e) => e.id)).toEqual(log.map((e) => e.id));
      expect(got).toEqual(log);
      expect(got.map((e) => e.topic)).toContain('fleet.stopping');
      expect(got.filter((e) => e.topic === 'fleet.started')).toHaveLength(2);
      expect(stderr).toMatch(/reconnecting/);
      expect(child.exitCode).toBeNull();

      child.kill('SIGTERM');
      const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
      expect(code).toBe(0);
    } finally {
      await f.dispose();
    }
  });
});
