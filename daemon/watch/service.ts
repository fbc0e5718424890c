import { randomBytes } from 'node:crypto';
import type { NewEvent } from '../../shared/events.js';
import type { FleetContext } from '../context.js';
import { FleetError } from '../errors.js';
import type { MembersService } from '../members/service.js';
import { ActiveWatch, type WatchSettings, type WatchSink } from './active-watch.js';
import type { Pending } from './coalescer.js';
import { checkScript, NOW_HEAD, startPoint } from './scripts.js';
import { WatchStore, type MethodChoice, type WatchRecord } from './store.js';

/** watch_files' arguments, checked by the tool's schema. */
export interface WatchInput {
  member: string;
  path: string;
  recursive?: boolean;
  include?: string[];
  exclude?: string[];
  method?: MethodChoice;
}

/** What list_watches shows of a watch. */
export interface WatchView {
  id: string;
  member: string;
  path: string;
  recursive: boolean;
  include: string[];
  exclude: string[];
  /** What the watch asked for (auto: inotify when the member has it). */
  requested: MethodChoice;
  /** What it uses now: inotify or poll (none until it has started on its member). */
  method: 'inotify' | 'poll' | 'none';
  state: ActiveWatch['state'];
  files: number;
  /** Every change seen so far is committed with its snapshot (nothing held back by the debounce). */
  quiet: boolean;
  /** The snapshot hit watch.maxFiles: files beyond it are not watched by polling. */
  truncated?: boolean;
  snapshotAt?: string;
  lastChangeAt?: string;
  lastError?: string;
  /** Since fleetd started: cheap checks that found nothing, and full listings (a listing follows a check that found something). */
  looks: { checks: number; listings: number };
  createdAt: string;
}

/** The watched path as given, without trailing slashes ("/" stays). */
function normalPath(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/**
 * File watches on members: kept in fleet.db with their last snapshots, started on their
 * member whenever it is online (first time, after a fleetd restart, after a reconnect),
 * their changes committed as file.changed together with the snapshot entry they change.
 */
export class WatchService {
  readonly store: WatchStore;
  private readonly active = new Map<string, ActiveWatch>();
  private readonly timer: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;
  /** Members whose periodic check is running now. */
  private readonly checking = new Set<string>();
  private readonly unsubscribe: () => void;
  private readonly sink: WatchSink;

  private firstTick: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: FleetContext,
    private readonly members: MembersService,
    private readonly settings: WatchSettings & { maxWatches: number },
  ) {
    this.store = new WatchStore(ctx.db);
    this.sink = {
      commit: (w, method, changes, overflow) => this.commit(w, method, changes, overflow),
      keep: (w, entries, hash) => this.store.replaceEntries(w.id, entries, hash),
      synced: (w, hash) => this.store.markSynced(w.id, hash),
      entries: (w) => this.store.entries(w.id),
      fresh: (w) => this.store.get(w.id),
    };
    for (const r of this.store.list()) this.active.set(r.id, new ActiveWatch(r, settings, this.sink));
    this.unsubscribe = ctx.log.onCommit((e) => {
      if (!e.subject) return;
      if (e.topic === 'member.online') this.startMember(e.subject);
      else if (e.topic === 'member.offline') for (const w of this.of(e.subject)) w.down();
      else if (e.topic === 'member.removed') for (const w of this.of(e.subject)) this.drop(w.record.id);
    });
    this.timer = setInterval(() => this.tick(), Math.max(1000, Math.min(settings.pollMs, 5000)));
    this.timer.unref();
    this.pollTimer = setInterval(() => this.pollAll(), settings.pollMs);
    this.pollTimer.unref();
    this.firstTick = setImmediate(() => this.tick());
  }

  /**
   * Every pollInterval, one command per member checks all its polling watches at once (one
   * find each, stopping at the first change); only a watch whose check found something lists
   * its tree and diffs it.
   */
  private pollAll(): void {
    const byMember = new Map<string, ActiveWatch[]>();
    for (const w of this.active.values()) {
      if (w.needsListing) void w.poll();
      else if (w.check() !== undefined) byMember.set(w.record.member, [...(byMember.get(w.record.member) ?? []), w]);
    }
    for (const [member, watches] of byMember) void this.checkMember(member, watches);
  }

  private async checkMember(member: string, watches: ActiveWatch[]): Promise<void> {
    const key = member.toLowerCase();
    const rt = this.members.pool.get(member);
    if (this.checking.has(key) || !rt || !this.online(member)) return;
    this.checking.add(key);
    try {
      const items = watches.flatMap((w) => w.check() ?? []);
      if (items.length === 0) return;
      const out = await rt.run({ command: checkScript(items) }, { timeoutMs: 60_000 });
      const [head, ...lines] = out.stdout.split('\n');
      const now = new RegExp(`^${NOW_HEAD} (\\d+)$`).exec(head ?? '');
      if (!now || out.exitCode !== 0) return;
      const hit = new Set(lines);
      for (const w of watches) {
        if (hit.has(startPoint(w.record.path))) void w.poll();
        else w.checked(Number(now[1]));
      }
    } catch {
      // The member went away: its watches restart when it is back.
    } finally {
      this.checking.delete(key);
    }
  }

  private of(member: string): ActiveWatch[] {
    return [...this.active.values()].filter((w) => w.record.member.toLowerCase() === member.toLowerCase());
  }

  private online(member: string): boolean {
    return this.members.pool.get(member)?.state().state === 'online';
  }

  private startMember(member: string): void {
    const rt = this.members.pool.get(member);
    if (!rt) return;
    for (const w of this.of(member)) void w.ensure(rt);
  }

  /** Periodic: (re)starts watches whose member is online and who are not running. */
  private tick(): void {
    if (this.stopped) return; // a tick queued before stop must not touch a closed fleet.db
    const members = new Set([...this.active.values()].map((w) => w.record.member));
    for (const m of members) if (this.online(m)) this.startMember(m);
  }

  /** Commits a watch's flushed changes, each file.changed with its snapshot entry (dropped when the watch is gone). */
  private async commit(w: WatchRecord, method: 'inotify' | 'poll', changes: Pending[], overflow: number): Promise<void> {
    const writes: Promise<unknown>[] = [];
    const full = (rel: string) => (rel === '' ? w.path : w.path === '/' ? `/${rel}` : `${w.path}/${rel}`);
    for (const c of changes) {
      const apply = (db: FleetContext['db']) => {
        if (!WatchStore.exists(db, w.id)) return false;
        if (c.sig !== undefined) WatchStore.applyEntry(db, w.id, c.rel, c.sig);
        return true;
      };
      if (c.change === null) {
        if (c.sig !== undefined) this.ctx.db.transaction(() => apply(this.ctx.db))();
        continue;
      }
      const path = full(c.rel);
      const event: NewEvent = {
        topic: 'file.changed',
        level: 'info',
        subject: w.member,
        message: `file ${c.change}: ${w.member}:${path}`,
        data: { member: w.member, path, change: c.change, watch: w.id, method },
      };
      writes.push(this.ctx.log.appendWith(event, apply));
    }
    if (overflow > 0) {
      writes.push(
        this.ctx.log.appendWith(
          {
            topic: 'file.changed',
            level: 'warning',
            subject: w.member,
            message: `more than ${changes.length} files changed at once under ${w.member}:${w.path}; ${overflow} more were not told one by one`,
            data: { member: w.member, path: w.path, change: 'modified', watch: w.id, method, overflow },
          },
          (db) => WatchStore.exists(db, w.id),
        ),
      );
    }
    await Promise.all(writes);
  }

  /** watch_files: starts watching a path on a member; resolves once it watches (or says why it cannot). */
  async add(input: WatchInput): Promise<WatchView> {
    const record = this.members.registry.get(input.member);
    const path = normalPath(input.path);
    const recursive = input.recursive ?? true;
    const include = input.include ?? [];
    const exclude = input.exclude ?? [];
    const method = input.method ?? 'auto';
    const same = this.store.list(record.name).find((w) => w.path === path && w.recursive === recursive && w.method === method && JSON.stringify(w.include) === JSON.stringify(include) && JSON.stringify(w.exclude) === JSON.stringify(exclude));
    if (same) return this.view(this.active.get(same.id)!);
    if (this.store.count() >= this.settings.maxWatches) throw new FleetError('bad_watch', `there are already ${this.settings.maxWatches} watches (watch.maxWatches); unwatch_files some first`);
    const stored = this.store.insert({ id: `w-${randomBytes(6).toString('hex')}`, member: record.name, path, recursive, include, exclude, method });
    const w = new ActiveWatch(stored, this.settings, this.sink);
    this.active.set(stored.id, w);
    const rt = this.members.pool.get(record.name);
    if (rt && this.online(record.name)) {
      const limit = new Promise<void>((r) => setTimeout(r, this.settings.readyTimeoutMs + 35_000).unref());
      await Promise.race([w.ensure(rt), limit]);
      if (w.state === 'down' && w.lastError) {
        this.drop(stored.id);
        throw new FleetError('watch_failed', `cannot watch ${path} on ${record.name}: ${w.lastError}`, 502);
      }
    }
    return this.view(w);
  }

  private drop(id: string): void {
    this.active.get(id)?.stop();
    this.active.delete(id);
    this.store.delete(id);
  }

  /** unwatch_files: stops a watch and forgets its snapshot. */
  remove(id: string): WatchView {
    const w = this.active.get(id);
    if (!w) throw new FleetError('unknown_watch', `no watch "${id}": list_watches shows the watches there are`, 404);
    const view = this.view(w);
    this.drop(id);
    return { ...view, state: 'idle' };
  }

  list(member?: string): WatchView[] {
    return [...this.active.values()].filter((w) => !member || w.record.member.toLowerCase() === member.toLowerCase()).map((w) => this.view(w));
  }

  private view(w: ActiveWatch): WatchView {
    const row = this.store.get(w.record.id) ?? w.record;
    const files = (this.ctx.db.prepare('SELECT count(*) AS n FROM watch_entries WHERE watch = ?').get(w.record.id) as { n: number }).n;
    return {
      id: row.id,
      member: row.member,
      path: row.path,
      recursive: row.recursive,
      include: row.include,
      exclude: row.exclude,
      requested: row.method,
      method: w.method ?? 'none',
      state: w.state,
      files,
      quiet: w.quiet,
      ...(w.cut ? { truncated: true } : {}),
      ...(row.snapshotAt !== null ? { snapshotAt: new Date(row.snapshotAt).toISOString() } : {}),
      ...(w.lastChangeAt ? { lastChangeAt: new Date(w.lastChangeAt).toISOString() } : {}),
      ...(w.lastError && w.state !== 'running' ? { lastError: w.lastError } : {}),
      looks: { checks: w.checks, listings: w.listings },
      createdAt: row.createdAt,
    };
  }

  /** Counts for GET /status. */
  summary(): Record<string, unknown> {
    const all = [...this.active.values()];
    return { watches: all.length, running: all.filter((w) => w.state === 'running').length, inotify: all.filter((w) => w.method === 'inotify').length, poll: all.filter((w) => w.method === 'poll').length };
  }

  stop(): void {
    this.stopped = true;
    clearImmediate(this.firstTick);
    clearInterval(this.timer);
    clearInterval(this.pollTimer);
    this.unsubscribe();
    for (const w of this.active.values()) w.stop();
  }
}
