import type { MemberRuntime, MemberStream } from '../members/runtime.js';
import { Coalescer, type Pending } from './coalescer.js';
import { diffSnapshots, inotifyChange, MAX_LINE, parseHead, parseListing, PathFilter } from './listing.js';
import { ALIVE, INOTIFY_READY, inotifyScript, listScript, pollScript, probeScript, TARGET_HEAD } from './scripts.js';
import type { CheckItem } from './scripts.js';
import type { WatchRecord } from './store.js';

/** Longest a full listing on its own channel may take before that look is given up. */
const LIST_TIMEOUT_MS = 120_000;

/** config.watch in the units the code uses. */
export interface WatchSettings {
  pollMs: number;
  debounceMs: number;
  maxDelayMs: number;
  maxFiles: number;
  /** Biggest listing read through a pooled shell (below members.outputLimit); bigger ones get a channel. */
  inlineBytes: number;
  /** How long inotifywait may take to set up its watches. */
  readyTimeoutMs: number;
  aliveSeconds: number;
}

/** What a watch tells its service: changes to commit, a snapshot to keep. */
export interface WatchSink {
  /** Commits changes (each with its snapshot entry when known); resolves once durable. */
  commit(w: WatchRecord, method: 'inotify' | 'poll', changes: Pending[], overflow: number): Promise<void>;
  /** Keeps a snapshot without telling anything (a baseline, or inotify's refresh). */
  keep(w: WatchRecord, entries: Map<string, string>, hash: string): void;
  /** Records that a listing's changes are all committed. */
  synced(w: WatchRecord, hash: string): void;
  entries(w: WatchRecord): Map<string, string>;
  /** The watch's row now (listing hash, snapshot time). */
  fresh(w: WatchRecord): WatchRecord | undefined;
}

type Listing = ({ unchanged: true } | { unchanged: false; entries: Map<string, string>; cut: boolean }) & { hash: string; startedAt: number };

/**
 * One watch, live on its member: inotifywait on a channel of its own when the member has it
 * (and the watch allows it), else a find snapshot every pollMs over the pooled shells. Each
 * start (first time, after a restart, after the member reconnects) rescans against the last
 * snapshot kept in fleet.db, so what changed meanwhile is told once.
 */
export class ActiveWatch {
  state: 'idle' | 'starting' | 'running' | 'down' = 'idle';
  method: 'inotify' | 'poll' | undefined;
  lastError: string | undefined;
  cut = false;
  lastChangeAt: number | undefined;
  /** Cheap checks that found nothing, and full listings of the tree, since this watch started here. */
  checks = 0;
  listings = 0;
  private generation = 0;
  private stream: MemberStream | undefined;
  private polling = false;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private readonly coalescer: Coalescer;
  private readonly filter: PathFilter;
  private stopped = false;
  private isFile = false;
  /** The last flush being committed. */
  private committing: Promise<void> = Promise.resolve();
  /** The listing hash to mark synced once the flush of its changes is committed. */
  private pendingHash: string | undefined;

  constructor(
    readonly record: WatchRecord,
    private readonly settings: WatchSettings,
    private readonly sink: WatchSink,
  ) {
    this.filter = new PathFilter(record.include, record.exclude);
    this.coalescer = new Coalescer(settings.debounceMs, settings.maxDelayMs, (changes, overflow) => {
      this.committing = this.commit(changes, overflow);
    });
  }

  private starting: Promise<void> = Promise.resolve();

  /** Starts watching unless it is already (re)starting or running; settles when that start is over. */
  ensure(rt: MemberRuntime): Promise<void> {
    this.runtime = rt;
    if (this.stopped || this.state === 'starting' || this.state === 'running') return this.starting;
    this.state = 'starting';
    const gen = ++this.generation;
    this.starting = this.start(rt, gen).catch((e: Error) => {
      if (gen !== this.generation) return;
      this.lastError = e.message;
      this.down();
    });
    return this.starting;
  }

  /** The member went away (or the stream ended): wait for ensure. */
  down(): void {
    this.state = 'down';
    this.generation++;
    this.since = undefined;
    this.stream?.close();
    this.stream = undefined;
  }

  private async start(rt: MemberRuntime, gen: number): Promise<void> {
    const probe = (await rt.run({ command: probeScript(this.record) }, { timeoutMs: 30_000 })).stdout;
    const hasInotify = probe.includes('inotify=yes');
    const exists = probe.includes('exists=yes');
    const useInotify = this.record.method === 'inotify' || (this.record.method === 'auto' && hasInotify && exists);
    if (this.record.method === 'inotify' && !hasInotify) throw new Error('inotifywait is not installed on the member (install inotify-tools, or watch with method "poll")');
    if (gen !== this.generation) return;
    if (useInotify) {
      try {
        await this.startInotify(rt, gen);
      } catch (e) {
        // auto: a tree too big for inotify's limits (or slow to set up) is still watched, by polling.
        if (this.record.method !== 'auto' || gen !== this.generation) throw e;
        this.stream?.close();
        this.stream = undefined;
        this.lastError = `inotifywait failed (${(e as Error).message}); polling instead`;
        this.method = 'poll';
      }
    } else this.method = 'poll';
    if (gen !== this.generation) return;
    // The rescan: whatever changed since the last snapshot (fleetd down, member away) is told now.
    await this.rescan(rt, true);
    if (gen !== this.generation) return;
    this.state = 'running';
    this.lastError = undefined;
  }

  /**
   * A polling watch's part of its member's periodic check (see checkScript); undefined
   * when it is not polling now or is busy. Without a listing time yet it must list: poll() then.
   */
  check(): CheckItem | undefined {
    if (this.state !== 'running' || this.method !== 'poll' || this.polling || this.since === undefined) return undefined;
    return { target: this.record, since: this.since, hadFiles: this.hadFiles };
  }

  /** A check started at `now` (member clock) found nothing here: the next one looks from then. */
  checked(now: number): void {
    this.checks++;
    if (!this.polling && this.since !== undefined) this.since = Math.max(this.since, now - 1);
  }

  /** Whether the next check can be the cheap one. */
  get needsListing(): boolean {
    return this.state === 'running' && this.method === 'poll' && !this.polling && this.since === undefined;
  }

  /** The member's clock (seconds) from which the cheap check looks for changes: just before the last listing. */
  private since: number | undefined;
  private hadFiles = false;

  /** Opens inotifywait's channel; resolves once its watches are set up. */
  private startInotify(rt: MemberRuntime, gen: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffer = '';
      let ready = false;
      let failed = false;
      const fail = (e: Error) => {
        failed = true;
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`inotifywait did not set up its watches within ${this.settings.readyTimeoutMs} ms`)), this.settings.readyTimeoutMs);
      const onLine = (line: string) => {
        if (!ready) {
          if (line.startsWith(TARGET_HEAD)) this.isFile = line.endsWith('file');
          else if (line === INOTIFY_READY) {
            ready = true;
            clearTimeout(timer);
            resolve();
          } else if (line.startsWith("Couldn't") || line.startsWith('fleet-missing') || line.startsWith('Failed')) this.lastError = line.slice(0, 300);
          return;
        }
        if (line === ALIVE) return;
        const bar = line.indexOf('|');
        if (bar < 0) {
          // inotify's queue overflowed: events were lost, so look at the whole tree.
          if (line.includes('Q_OVERFLOW')) void this.rescan(rt, true);
          return;
        }
        const change = inotifyChange(line.slice(0, bar));
        let rel = line.slice(bar + 1).replace(/^\.\//, '').replace(/^\.$/, '');
        if (this.isFile) {
          if (rel !== this.record.path.slice(this.record.path.lastIndexOf('/') + 1)) return;
          rel = '';
        }
        if (change && this.filter.accepts(rel)) this.note(rel, change);
      };
      rt.openStream(inotifyScript(this.record, this.settings.aliveSeconds), {
        onData: (chunk) => {
          if (gen !== this.generation) return;
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.length <= MAX_LINE) onLine(line);
          }
          if (buffer.length > MAX_LINE) buffer = ''; // a line longer than any path: not inotifywait's
        },
        onClose: () => {
          clearTimeout(timer);
          if (!ready) fail(new Error(this.lastError ?? 'inotifywait ended before it was watching'));
          else if (gen === this.generation && this.stream) this.down();
        },
      }).then(
        (s) => {
          if (gen !== this.generation || failed) s.close();
          else {
            this.stream = s;
            this.method = 'inotify';
          }
        },
        (e: Error) => {
          clearTimeout(timer);
          fail(e);
        },
      );
    });
  }

  private note(rel: string, change: Pending['change'] & string, sig?: string | null): void {
    this.lastChangeAt = Date.now();
    this.coalescer.add(rel, change, sig);
  }

  /** Commits a flush; with inotify, then brings the kept snapshot up to date (quietly). */
  private async commit(changes: Pending[], overflow: number): Promise<void> {
    if (this.stopped) return;
    const hash = this.pendingHash;
    this.pendingHash = undefined;
    this.inCommit++;
    try {
      await this.sink.commit(this.record, this.method ?? 'poll', changes, overflow);
      if (hash) this.sink.synced(this.record, hash);
    } catch (e) {
      this.lastError = `cannot record changes: ${(e as Error).message}`;
    }
    if (this.method === 'inotify') this.refresh();
    this.inCommit--;
  }

  /** Nothing held, being committed or being re-listed: what was seen so far is all in fleet.db. */
  get quiet(): boolean {
    return this.coalescer.size === 0 && !this.inCommit && !this.refreshing && !this.polling;
  }

  private inCommit = 0;

  private refresh(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const rt = this.runtime;
    if (!rt) return;
    this.refreshing = this.rescan(rt, false)
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refresh();
        }
      });
  }

  /** Set by the service: the member's runtime now. */
  runtime: MemberRuntime | undefined;

  /** One full look of a polling watch (its check found something, or it has no listing time yet). */
  async poll(): Promise<void> {
    const rt = this.runtime;
    if (!rt || this.polling || this.state !== 'running') return;
    this.polling = true;
    try {
      await this.rescan(rt, true);
    } catch (e) {
      this.lastError = (e as Error).message;
    } finally {
      this.polling = false;
    }
  }

  /**
   * Lists the tree and compares it with the kept snapshot. `tell`: the differences become
   * file.changed (each committed with its entry); otherwise the listing is kept quietly.
   * A watch without a snapshot yet takes the listing as its baseline.
   */
  private async rescan(rt: MemberRuntime, tell: boolean): Promise<void> {
    const row = this.sink.fresh(this.record);
    if (!row) return;
    const listing = await this.list(rt, row.snapshotAt === null ? '' : (row.listingHash ?? ''));
    // A change during the listing may or may not be in it: the next check looks from a second before it began.
    this.since = listing.startedAt - 1;
    if (listing.unchanged) return;
    this.cut = listing.cut;
    if (row.snapshotAt === null || !tell) {
      this.sink.keep(this.record, listing.entries, listing.hash);
      return;
    }
    const changes = diffSnapshots(this.sink.entries(this.record), listing.entries);
    if (changes.length === 0) return this.sink.synced(this.record, listing.hash);
    for (const c of changes) this.note(c.rel, c.change, c.sig);
    this.pendingHash = listing.hash;
    this.coalescer.flushNow();
    // The next look compares with these entries: they must be committed first.
    await this.committing;
  }

  /** Lists the watched tree: through a pooled shell when small, else on a channel of its own. */
  private async list(rt: MemberRuntime, knownHash: string): Promise<Listing> {
    const s = this.settings;
    this.listings++;
    const out = await rt.run({ command: pollScript(this.record, s.maxFiles, knownHash, s.inlineBytes) }, { timeoutMs: 60_000 });
    const lines = out.stdout.split('\n');
    const head = parseHead(lines[0] ?? '');
    if (!head) throw new Error(`the member's listing of ${this.record.path} is unreadable: ${(out.stderr || out.stdout).slice(0, 200)}`);
    this.hadFiles = head.lines > 0;
    if (head.hash === knownHash) return { unchanged: true, hash: head.hash, startedAt: head.startedAt };
    let body = lines.slice(1);
    if (head.bytes > s.inlineBytes) body = await this.listOnChannel(rt);
    const { entries, cut } = parseListing(body, this.filter, s.maxFiles);
    return { unchanged: false, hash: head.hash, startedAt: head.startedAt, entries, cut: cut || head.lines >= s.maxFiles };
  }

  /** A big listing, read on a channel of its own (bounded by maxFiles lines of at most MAX_LINE). */
  private listOnChannel(rt: MemberRuntime): Promise<string[]> {
    const limit = this.settings.maxFiles * 256 + 4096;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let stream: MemberStream | undefined;
      // A member that holds the channel open without finishing must not stall this watch forever.
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        stream?.close();
      }, LIST_TIMEOUT_MS);
      rt.openStream(listScript(this.record, this.settings.maxFiles), {
        onData: (d) => {
          if (bytes > limit) return;
          bytes += d.length;
          chunks.push(d);
          if (bytes > limit) stream?.close();
        },
        onClose: () => {
          clearTimeout(deadline);
          // A cut-off listing would read as deletions: fail this look instead, the next one lists again.
          if (timedOut) reject(new Error(`listing ${this.record.path} on ${this.record.member} took over ${LIST_TIMEOUT_MS / 1000} s`));
          else resolve(Buffer.concat(chunks).toString('utf8').split('\n').slice(1));
        },
      }).then(
        (s) => (stream = s),
        (e: unknown) => {
          clearTimeout(deadline);
          reject(e);
        },
      );
    });
  }

  stop(): void {
    this.stopped = true;
    this.down();
    this.coalescer.stop();
  }
}
