import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../shared/events.js';
import { EventLog } from '../../daemon/events/event-log.js';

let dir: string;
let path: string;
const open: EventLog[] = [];

function openLog(retention?: { maxEvents: number; maxAgeMs: number }): EventLog {
  const log = new EventLog(path, retention);
  open.push(log);
  return log;
}

function closeLog(log: EventLog): void {
  log.close();
  open.splice(open.indexOf(log), 1);
}

/** Appends n events one tick after another (each in its own transaction). */
async function appendSeq(log: EventLog, n: number, topic = 'test.seq'): Promise<FleetEvent[]> {
  const out: FleetEvent[] = [];
  for (let i = 0; i < n; i++) out.push(await log.append({ topic, level: 'info', message: `m${i}` }));
  return out;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-eventlog-'));
  path = join(dir, 'fleet.db');
});

afterEach(() => {
  for (const log of open.splice(0)) log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('EventLog', () => {
  it('assigns strictly increasing ids and keeps every field', async () => {
    const log = openLog();
    const a = await log.append({ topic: 'deploy.started', level: 'notice', subject: 'web', message: 'go', data: { sha: 'abc' }, session: 's1' });
    const b = await log.append({ topic: 'deploy.finished', level: 'info', message: 'done' });
    expect(a.id).toBe(1);
    expect(b.id).toBe(2);
    expect(log.lastId).toBe(2);
    expect(Date.parse(a.ts)).not.toBeNaN();
    const read = log.read(0);
    expect(read).toEqual([a, b]);
    expect(read[0]).toMatchObject({ topic: 'deploy.started', level: 'notice', subject: 'web', message: 'go', data: { sha: 'abc' }, session: 's1' });
    expect(read[1]).not.toHaveProperty('subject');
  });

  it('group-commits every append of one tick in one transaction, resolving all of them', async () => {
    const log = openLog();
    await log.append({ topic: 'warm.up', level: 'info', message: 'first' });
    const observer = new Database(path, { readonly: true });
    try {
      const versionBefore = observer.pragma('data_version', { simple: true }) as number;
      const seenAtFirstCommit: number[] = [];
      const off = log.onCommit(() => {
        // The first listener call happens after the commit: the whole batch must already be visible to another connection.
        if (seenAtFirstCommit.length === 0) seenAtFirstCommit.push((observer.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n);
      });
      const promises = Array.from({ length: 500 }, (_, i) => log.append({ topic: 'burst.x', level: 'info', message: `b${i}` }));
      // Nothing is committed until the tick ends.
      expect((observer.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n).toBe(1);
      const events = await Promise.all(promises);
      off();
      expect(seenAtFirstCommit).toEqual([501]);
      const versionAfter = observer.pragma('data_version', { simple: true }) as number;
      expect(versionAfter - versionBefore).toBe(1);
      expect(events.map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
      expect(events.map((e) => e.message)).toEqual(Array.from({ length: 500 }, (_, i) => `b${i}`));
    } finally {
      observer.close();
    }
  });

  it('tells listeners only about committed events, in id order', async () => {
    const log = openLog();
    const observer = new Database(path, { readonly: true });
    try {
      const seen: { id: number; visible: boolean }[] = [];
      log.onCommit((e, row) => {
        expect(row.id).toBe(e.id);
        expect(JSON.parse(row.json)).toEqual(e);
        seen.push({ id: e.id, visible: observer.prepare('SELECT 1 FROM events WHERE id = ?').get(e.id) !== undefined });
      });
      await Promise.all([1, 2, 3].map((i) => log.append({ topic: 'x.y', level: 'info', message: `${i}` })));
      await log.append({ topic: 'x.y', level: 'info', message: '4' });
      expect(seen).toEqual([1, 2, 3, 4].map((id) => ({ id, visible: true })));
    } finally {
      observer.close();
    }
  });

  it('reads after an id with topic globs, subject and limit', async () => {
    const log = openLog();
    await log.append({ topic: 'member.online', level: 'info', subject: 'a', message: '1' });
    await log.append({ topic: 'task.completed', level: 'info', subject: 't1', message: '2' });
    await log.append({ topic: 'member.offline', level: 'warning', subject: 'b', message: '3' });
    await log.append({ topic: 'ci.status', level: 'info', subject: 'repo', message: '4' });
    await log.append({ topic: 'member.online', level: 'info', subject: 'b', message: '5' });

    expect(log.read(0).map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(log.read(3).map((e) => e.id)).toEqual([4, 5]);
    expect(log.read(5)).toEqual([]);
    expect(log.read(0, { globs: ['member.*'] }).map((e) => e.id)).toEqual([1, 3, 5]);
    expect(log.read(0, { globs: ['member.*', 'ci.*'] }).map((e) => e.id)).toEqual([1, 3, 4, 5]);
    expect(log.read(0, { globs: ['*.completed'] }).map((e) => e.id)).toEqual([2]);
    expect(log.read(0, { subject: 'b' }).map((e) => e.id)).toEqual([3, 5]);
    expect(log.read(0, { globs: ['member.*'], subject: 'b' }).map((e) => e.id)).toEqual([3, 5]);
    expect(log.read(0, { limit: 2 }).map((e) => e.id)).toEqual([1, 2]);
    expect(log.read(2, { limit: 2 }).map((e) => e.id)).toEqual([3, 4]);
    const rows = log.readRows(0, { limit: 1 });
    expect(rows).toEqual([{ id: 1, topic: 'member.online', json: JSON.stringify(log.read(0, { limit: 1 })[0]) }]);
  });

  it('trims by count and gives a reader of trimmed ids a fleet.gap first, then the rest', async () => {
    const log = openLog({ maxEvents: 10, maxAgeMs: 86_400_000 });
    await appendSeq(log, 30);
    expect(log.count()).toBeLessThanOrEqual(11); // trimmed as it goes, with a small slack
    log.trim();
    expect(log.count()).toBe(10);

    const fromZero = log.read(0);
    expect(fromZero[0]).toMatchObject({ id: 20, topic: 'fleet.gap', level: 'warning', data: { from: 1, to: 20 } });
    expect(fromZero[0]!.message).toMatch(/1\.\.20.*removed by retention/);
    expect(fromZero.slice(1).map((e) => e.id)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);

    const fromFive = log.read(5);
    expect(fromFive[0]).toMatchObject({ topic: 'fleet.gap', data: { from: 6, to: 20 } });
    expect(fromFive.slice(1).map((e) => e.id)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);

    // The gap comes first even when a topic filter or a limit applies: never a silent hole.
    expect(log.read(0, { globs: ['nothing.*'] }).map((e) => e.topic)).toEqual(['fleet.gap']);
    expect(log.read(0, { limit: 3 }).map((e) => e.id)).toEqual([20, 21, 22]);

    // A reader that already has the last trimmed id (or the gap's id) gets no gap.
    expect(log.read(20).map((e) => e.id)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);

    // The trim boundary survives a restart.
    closeLog(log);
    const again = openLog({ maxEvents: 10, maxAgeMs: 86_400_000 });
    expect(again.read(0)[0]).toMatchObject({ topic: 'fleet.gap', data: { from: 1, to: 20 } });
  });

  it('trims by age', async () => {
    const log = openLog({ maxEvents: 1000, maxAgeMs: 60_000 });
    const events = await appendSeq(log, 5);
    expect(log.trim(Date.parse(events[4]!.ts) + 30_000)).toBe(0);
    expect(log.trim(Date.parse(events[4]!.ts) + 60_001)).toBe(5);
    expect(log.count()).toBe(0);
    expect(log.read(0)).toEqual([expect.objectContaining({ topic: 'fleet.gap', data: { from: 1, to: 5 } })]);
  });

  it('never reuses an id, even after retention emptied the table and after a reopen', async () => {
    const log = openLog({ maxEvents: 1000, maxAgeMs: 60_000 });
    const first = await appendSeq(log, 3);
    log.trim(Date.parse(first[2]!.ts) + 120_000);
    expect(log.count()).toBe(0);
    expect(log.lastId).toBe(3);
    const next = await log.append({ topic: 'after.trim', level: 'info', message: 'x' });
    expect(next.id).toBe(4);
    log.trim(Date.parse(next.ts) + 120_000);
    expect(log.count()).toBe(0);
    closeLog(log);

    const reopened = openLog({ maxEvents: 1000, maxAgeMs: 60_000 });
    expect(reopened.lastId).toBe(4);
    const after = await reopened.append({ topic: 'after.reopen', level: 'info', message: 'y' });
    expect(after.id).toBe(5);
    expect(reopened.read(4).map((e) => e.id)).toEqual([5]);
    expect(reopened.read(0)[0]).toMatchObject({ topic: 'fleet.gap', data: { from: 1, to: 4 } });
  });

  it('keeps ids increasing across reopen without retention', async () => {
    const log = openLog();
    await appendSeq(log, 3);
    closeLog(log);
    const again = openLog();
    expect(again.lastId).toBe(3);
    expect((await again.append({ topic: 'a.b', level: 'info', message: 'z' })).id).toBe(4);
  });

  it('commits what is pending on close', async () => {
    const log = openLog();
    const p = log.append({ topic: 'late.one', level: 'info', message: 'before close' });
    closeLog(log);
    await expect(p).resolves.toMatchObject({ id: 1 });
    expect(openLog().read(0).map((e) => e.message)).toEqual(['before close']);
  });

  it('finds the cursor for a point in time', async () => {
    const log = openLog();
    expect(log.cursorAtTime(Date.now())).toBe(0); // empty log
    const a = await log.append({ topic: 't.a', level: 'info', message: 'a' });
    await waitForClockPast(Date.parse(a.ts));
    const b = await log.append({ topic: 't.b', level: 'info', message: 'b' });
    await waitForClockPast(Date.parse(b.ts));
    const c = await log.append({ topic: 't.c', level: 'info', message: 'c' });

    expect(log.cursorAtTime(0)).toBe(0);
    expect(log.cursorAtTime(Date.parse(a.ts))).toBe(0); // at or after a: a included
    expect(log.cursorAtTime(Date.parse(a.ts) + 1)).toBe(a.id); // after a: starts at b
    expect(log.cursorAtTime(Date.parse(b.ts))).toBe(a.id);
    expect(log.cursorAtTime(Date.parse(c.ts))).toBe(b.id);
    expect(log.cursorAtTime(Date.parse(c.ts) + 60_000)).toBe(c.id); // the future: only new events
    expect(log.read(log.cursorAtTime(Date.parse(b.ts))).map((e) => e.id)).toEqual([b.id, c.id]);
  });

  it('points a time older than what retention kept at a fleet.gap', async () => {
    const log = openLog({ maxEvents: 2, maxAgeMs: 86_400_000 });
    const events = await appendSeq(log, 6);
    log.trim();
    expect(log.count()).toBe(2);
    const cursor = log.cursorAtTime(Date.parse(events[0]!.ts));
    const read = log.read(cursor);
    expect(read[0]!.topic).toBe('fleet.gap');
    expect(read.slice(1).map((e) => e.id)).toEqual([5, 6]);
  });
});

/** Resolves once the wall clock has moved past `ms`, so the next event gets a later time. */
async function waitForClockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((r) => setTimeout(r, 1));
}

describe('bounded reads and checked appends', () => {
  it('bounds a page in bytes as well as rows, always with at least one event, and the cursor continues', async () => {
    const log = openLog();
    const blob = 'x'.repeat(300 * 1024);
    const events = await Promise.all(Array.from({ length: 10 }, (_, i) => log.append({ topic: 'test.big', level: 'info', message: `b${i}`, data: { blob } })));
    const page = log.readRows(0, { limit: 1000, maxBytes: 1024 * 1024 });
    expect(page.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(log.readRows(0, { maxBytes: 10 }).map((r) => r.id)).toEqual([1]);
    const ids: number[] = [];
    for (let cursor = 0; ; ) {
      const rows = log.readRows(cursor);
      if (rows.length === 0) break;
      ids.push(...rows.map((r) => r.id));
      cursor = rows.at(-1)!.id;
    }
    expect(ids).toEqual(events.map((e) => e.id));
  });

  it('refuses an event nested too deep on its own, and commits the rest of its batch', async () => {
    const log = openLog();
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    const results = await Promise.allSettled([
      log.append({ topic: 'test.ok', level: 'info', message: 'before' }),
      log.append({ topic: 'test.deep', level: 'info', message: 'deep', data: deep }),
      log.append({ topic: 'test.ok', level: 'info', message: 'after' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'bad_event', status: 400 });
    expect(log.read(0).map((e) => e.message)).toEqual(['before', 'after']);
    // The stored JSON keeps its field order, ts first.
    expect(Object.keys(log.read(0)[0]!)).toEqual(['id', 'ts', 'topic', 'level', 'message']);
  });
});
