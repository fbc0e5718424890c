import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { FAST_WATCH, fileLog, pathWithoutInotify, waitForChange, waitQuiet, type WatchView } from './lib.js';

/** One member with inotify-tools, one whose PATH lacks inotifywait (so it is polled). */
const MEMBERS = [
  { member: 'with-inotify', method: 'inotify' },
  { member: 'without-inotify', method: 'poll' },
] as const;

describe('file watches on real sshd members, with and without inotify-tools', () => {
  let dir: string;
  let sshds: Record<string, Sshd>;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-watch-'));
    sshds = {
      'with-inotify': await Sshd.start(),
      'without-inotify': await Sshd.start({ env: { PATH: pathWithoutInotify(dir) } }),
    };
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, watch: FAST_WATCH } }).start();
    mcp = await McpTestClient.connect(fleetd);
    for (const { member } of MEMBERS) await mcp.call('register_member', sshMember(member, sshds[member]!));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    for (const s of Object.values(sshds ?? {})) await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Changes of one path, in log order. */
  const changesOf = async (path: string) => (await fileLog(fleetd)).filter((e) => e.data.path === path).map((e) => e.data.change);

  /** Makes a change that settles everything before it, and waits for its event. */
  const sentinel = async (folder: string, name: string) => {
    writeFileSync(join(folder, name), 'x');
    await waitForChange(fleetd, join(folder, name), 'created');
  };

  for (const { member, method } of MEMBERS) {
    it(`${method}: create, modify and delete each give their file.changed, and list_watches says ${method}`, { timeout: 60_000 }, async () => {
      const folder = join(dir, `${member}-basic`);
      mkdirSync(folder);
      const { watch } = await mcp.call<{ watch: WatchView }>('watch_files', { member, path: folder });
      expect(watch).toMatchObject({ member, path: folder, method, state: 'running' });
      const file = join(folder, 'a.txt');
      writeFileSync(file, 'one\n');
      const created = await waitForChange(fleetd, file, 'created');
      expect(created.data).toMatchObject({ member, path: file, change: 'created', watch: watch.id, method });
      expect(created.subject).toBe(member);
      await waitQuiet(mcp, watch.id);
      appendFileSync(file, 'two\n');
      await waitForChange(fleetd, file, 'modified');
      await waitQuiet(mcp, watch.id);
      rmSync(file);
      await waitForChange(fleetd, file, 'deleted');
      await sentinel(folder, 'done');
      expect(await changesOf(file)).toEqual(['created', 'modified', 'deleted']);
      const { watches } = await mcp.call<{ watches: WatchView[] }>('list_watches', { member });
      expect(watches.find((w) => w.id === watch.id)).toMatchObject({ method, requested: 'auto', state: 'running' });
    });

    it(`${method}: 1,000 quick writes to one file give a handful of file.changed, not 1,000`, { timeout: 60_000 }, async () => {
      const folder = join(dir, `${member}-burst`);
      mkdirSync(folder);
      const file = join(folder, 'burst.log');
      writeFileSync(file, '');
      const { watch } = await mcp.call<{ watch: WatchView }>('watch_files', { member, path: folder });
      const fd = openSync(file, 'a');
      for (let i = 0; i < 1000; i++) writeSync(fd, `line ${i}\n`);
      closeSync(fd);
      await sentinel(folder, 'done');
      await waitQuiet(mcp, watch.id);
      const changes = await changesOf(file);
      expect(changes.length).toBeGreaterThanOrEqual(1);
      expect(changes.length).toBeLessThanOrEqual(5);
      expect(new Set(changes)).toEqual(new Set(['modified']));
    });
  }

  it('watches survive kill -9 of fleetd and a restart of the member\'s sshd; what changed meanwhile is told once', { timeout: 120_000 }, async () => {
    const setups = [];
    for (const { member, method } of MEMBERS) {
      const folder = join(dir, `${member}-outage`);
      mkdirSync(folder);
      for (const n of ['keep.txt', 'gone.txt', 'keep2.txt', 'gone2.txt']) writeFileSync(join(folder, n), 'before\n');
      const { watch } = await mcp.call<{ watch: WatchView }>('watch_files', { member, path: folder });
      expect(watch.method).toBe(method);
      await waitQuiet(mcp, watch.id);
      setups.push({ member, method, folder, id: watch.id });
    }

    // fleetd killed: nothing to flush, nobody watching.
    await mcp.close();
    await fleetd.kill9();
    for (const s of setups) {
      writeFileSync(join(s.folder, 'new.txt'), 'during the outage\n');
      appendFileSync(join(s.folder, 'keep.txt'), 'changed while fleetd was down\n');
      rmSync(join(s.folder, 'gone.txt'));
    }
    await fleetd.start();
    mcp = await McpTestClient.connect(fleetd);
    for (const s of setups) {
      await waitForChange(fleetd, join(s.folder, 'new.txt'), 'created', 30_000);
      await waitForChange(fleetd, join(s.folder, 'keep.txt'), 'modified');
      await waitForChange(fleetd, join(s.folder, 'gone.txt'), 'deleted');
      await sentinel(s.folder, 'after-restart');
      const { watches } = await mcp.call<{ watches: WatchView[] }>('list_watches', { member: s.member });
      expect(watches.find((w) => w.id === s.id)).toMatchObject({ method: s.method, state: 'running' });
    }

    // Each member's sshd restarted: its connection (and inotifywait's channel) dies with it.
    for (const s of setups) {
      const sshd = sshds[s.member]!;
      await sshd.kill();
      writeFileSync(join(s.folder, 'new2.txt'), 'while sshd was down\n');
      appendFileSync(join(s.folder, 'keep2.txt'), 'changed while sshd was down\n');
      rmSync(join(s.folder, 'gone2.txt'));
      await until(`${s.member} offline`, async () => (await fileLogTopics(fleetd, 'member.offline')).some((e) => e.subject === s.member) || undefined, 15_000, 100);
      await sshd.start();
      await waitForChange(fleetd, join(s.folder, 'new2.txt'), 'created', 30_000);
      await waitForChange(fleetd, join(s.folder, 'keep2.txt'), 'modified');
      await waitForChange(fleetd, join(s.folder, 'gone2.txt'), 'deleted');
      await sentinel(s.folder, 'after-sshd');
      await waitQuiet(mcp, s.id);
    }

    for (const s of setups) {
      for (const [name, change] of [['new.txt', 'created'], ['keep.txt', 'modified'], ['gone.txt', 'deleted'], ['new2.txt', 'created'], ['keep2.txt', 'modified'], ['gone2.txt', 'deleted']] as const) {
        expect(await changesOf(join(s.folder, name)), `${s.member} ${name}`).toEqual([change]);
      }
      const { watches } = await mcp.call<{ watches: WatchView[] }>('list_watches', { member: s.member });
      expect(watches.find((w) => w.id === s.id)).toMatchObject({ method: s.method, state: 'running' });
    }
  });

  it('poll: an unchanged tree is checked each interval but not listed again, however old the other watches of the member are', { timeout: 60_000 }, async () => {
    const member = 'without-inotify';
    const older = join(dir, 'older-tree');
    const later = join(dir, 'later-tree');
    for (const f of [older, later]) mkdirSync(f);
    writeFileSync(join(older, 'o'), 'x');
    await mcp.call('watch_files', { member, path: older });
    // Files written after the first watch's listing, under a second watch.
    for (let i = 0; i < 20; i++) writeFileSync(join(later, `l${i}`), 'x');
    const b = (await mcp.call<{ watch: WatchView }>('watch_files', { member, path: later })).watch;
    type Looks = { checks: number; listings: number };
    const looks = async () => (await mcp.call<{ watches: (WatchView & { looks: Looks })[] }>('list_watches', { member })).watches.find((w) => w.id === b.id)!.looks;
    await waitQuiet(mcp, b.id);
    // Files changed within the last second are looked at again (the member clock has whole seconds): wait for a check that finds nothing.
    const first = await looks();
    await until('a check of the later tree that finds nothing', async () => ((await looks()).checks > first.checks ? true : undefined), 20_000, 100);
    const before = await looks();
    await until('5 more checks of the later tree', async () => ((await looks()).checks >= before.checks + 5 ? true : undefined), 20_000, 100);
    expect((await looks()).listings).toBe(before.listings);
  });

  it('auto falls back to polling when inotifywait is there but cannot watch; method inotify is refused there', { timeout: 60_000 }, async () => {
    const bin = pathWithoutInotify(join(dir, 'broken'));
    writeFileSync(join(bin, 'inotifywait'), '#!/bin/sh\necho "Failed to watch .; upper limit on inotify watches reached!"\nexit 1\n', { mode: 0o755 });
    const broken = await Sshd.start({ env: { PATH: bin } });
    try {
      await mcp.call('register_member', sshMember('broken-inotify', broken));
      const folder = join(dir, 'broken-watch');
      mkdirSync(folder);
      const { watch } = await mcp.call<{ watch: WatchView }>('watch_files', { member: 'broken-inotify', path: folder });
      expect(watch).toMatchObject({ method: 'poll', state: 'running' });
      writeFileSync(join(folder, 'x.txt'), 'x');
      await waitForChange(fleetd, join(folder, 'x.txt'), 'created');
      const forced = await mcp.raw('watch_files', { member: 'broken-inotify', path: folder, method: 'inotify' });
      expect(forced.isError).toBe(true);
      await mcp.call('remove_member', { name: 'broken-inotify' });
    } finally {
      await broken.dispose();
    }
  });

  it('a local member is watched too, and unwatch_files stops a watch', { timeout: 60_000 }, async () => {
    await mcp.call('register_member', { name: 'here', kind: 'local' });
    const folder = join(dir, 'local');
    mkdirSync(folder);
    const { watch } = await mcp.call<{ watch: WatchView }>('watch_files', { member: 'here', path: folder, include: ['*.txt'] });
    expect(watch.method).toBe('inotify');
    writeFileSync(join(folder, 'skipped.bin'), 'x');
    writeFileSync(join(folder, 'seen.txt'), 'x');
    await waitForChange(fleetd, join(folder, 'seen.txt'), 'created');
    await waitQuiet(mcp, watch.id);
    expect(await changesOf(join(folder, 'skipped.bin'))).toEqual([]);
    await mcp.call('unwatch_files', { watch_id: watch.id });
    const { watches } = await mcp.call<{ watches: WatchView[] }>('list_watches', { member: 'here' });
    expect(watches).toEqual([]);
    const bad = await mcp.raw('unwatch_files', { watch_id: watch.id });
    expect(bad.isError).toBe(true);
  });
});

/** Events of one topic in the log. */
async function fileLogTopics(fleetd: FleetdProcess, topic: string): Promise<{ subject?: string }[]> {
  const r = await fleetd.fetch(`/events?since=0&topic=${topic}&limit=10000`, { headers: { accept: 'application/json' } });
  return ((await r.json()) as { events: { subject?: string }[] }).events;
}
