import type Database from 'better-sqlite3';
import type { FleetEvent, NewEvent } from '../../shared/events.js';
import { openFleetDb } from '../db/open.js';
import { FleetError } from '../errors.js';
import { GroupCommitter } from './group-commit.js';
import { serializeEvent, type PreparedEvent } from './prepare-event.js';

/**
 * Most bytes of event JSON one read hands out (a page), unless a reader asks for less:
 * a replay across large events must never build one huge string. A page always holds at
 * least one event, so a single event above the budget still goes through.
 */
export const PAGE_BYTES = 1024 * 1024;

/** One stored event as the log hands it out: its id, topic and complete JSON text. */
export interface LogRow {
  id: number;
  topic: string;
  json: string;
}

export interface ReadOptions {
  /** Topic globs (`member.*`); SQLite's GLOB has the same `*` meaning for our topic alphabet. */
  globs?: string[];
  subject?: string;
  limit?: number;
  /** Byte budget of the page's JSON (default PAGE_BYTES); at least one row is returned. */
  maxBytes?: number;
}

export interface RetentionPolicy {
  maxEvents: number;
  maxAgeMs: number;
}

type Listener = (event: FleetEvent, row: LogRow) => void;

/** An append waiting for its tick's transaction, with a write that must commit together with it. */
interface Pending extends PreparedEvent {
  alsoWrite?: () => void;
}

/** Rewrites an event before it is stored (secret values out of every string). */
export type EventScrubber = (e: NewEvent) => NewEvent;

interface Committed {
  event: FleetEvent;
  row: LogRow;
}

/**
 * The durable, append-only event log in SQLite (WAL, synchronous=FULL).
 * Appends made in one tick are committed in one transaction (group commit), and an event
 * reaches listeners only after its transaction is on disk.
 */
export class EventLog {
  readonly db: Database.Database;
  private readonly writer: GroupCommitter<Pending, Committed>;
  private listeners = new Set<Listener>();
  private lastIdValue: number;
  private firstIdValue: number;
  private trimmedThrough: number;
  private trimmedThroughMs: number;
  private readonly insert: Database.Statement;
  private readonly retentionSlack: number;

  /** Set when the log opened fleet.db itself (given a path) and so closes it. */
  private readonly ownsDb: boolean;

  /** Runs on fleet.db as opened by its owner (daemon/db); given a path, opens it that way itself. */
  constructor(
    db: Database.Database | string,
    private readonly retention: RetentionPolicy = { maxEvents: 1_000_000, maxAgeMs: 30 * 86_400_000 },
    private readonly scrub: EventScrubber = (e) => e,
  ) {
    this.ownsDb = typeof db === 'string';
    this.db = typeof db === 'string' ? openFleetDb(db) : db;
    this.insert = this.db.prepare('INSERT INTO events (ts_ms, topic, subject, session, body) VALUES (?, ?, ?, ?, ?)');
    // AUTOINCREMENT's high-water mark survives deletes, so ids are never reused even when retention empties the table.
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    this.lastIdValue = seq?.seq ?? 0;
    const first = this.db.prepare('SELECT MIN(id) AS id FROM events').get() as { id: number | null };
    this.firstIdValue = first.id ?? this.lastIdValue + 1;
    this.trimmedThrough = Number(this.getMeta('trimmed_through') ?? 0);
    this.trimmedThroughMs = Number(this.getMeta('trimmed_through_ms') ?? 0);
    this.retentionSlack = Math.max(1, Math.min(1000, Math.ceil(retention.maxEvents * 0.01)));
    this.writer = new GroupCommitter(this.db, (e) => this.writeOne(e), (batch) => this.afterCommit(batch));
  }

  /** Id of the newest event committed (0 for an empty log). */
  get lastId(): number {
    return this.lastIdValue;
  }

  /** How many events are stored now. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }

  /**
   * Adds an event; resolves with its id and time once it is committed to disk. The event is
   * checked and serialised here, before it joins a batch, so a bad one (too deep, not
   * serialisable) is refused alone with a `bad_event` error and never fails its batch.
   */
  append(input: NewEvent): Promise<FleetEvent> {
    return this.submit(input);
  }

  /**
   * Adds an event and runs `alsoWrite` (SQL on this database) in the same transaction, so a
   * state change and the event announcing it commit together or not at all (e.g. a timer's
   * fired mark). `alsoWrite` must not throw: a throw fails the whole tick's batch.
   */
  appendWith(input: NewEvent, alsoWrite: () => void): Promise<FleetEvent> {
    return this.submit(input, alsoWrite);
  }

  /** Scrubs secrets out, checks and serialises, then queues for the next group commit. */
  private submit(input: NewEvent, alsoWrite?: () => void): Promise<FleetEvent> {
    let prepared: PreparedEvent;
    try {
      prepared = serializeEvent(this.scrub(input));
    } catch (e) {
      // The scrubber walks data before serializeEvent bounds its depth: a stack overflow there is bad input too.
      return Promise.reject(e instanceof FleetError ? e : new FleetError('bad_event', `bad event: it cannot be stored (${(e as Error).message})`));
    }
    return this.writer.submit({ ...prepared, alsoWrite }).then((c) => c.event);
  }

  /** Commits every pending append now. */
  flush(): void {
    this.writer.flush();
  }

  private writeOne({ input, rest, alsoWrite }: Pending): Committed {
    alsoWrite?.();
    const ms = Date.now();
    const ts = new Date(ms).toISOString();
    // `rest` is the event's JSON without ts, serialised before queueing; ts goes first, as it always did.
    const body = `{"ts":"${ts}",${rest.slice(1)}`;
    const id = Number(this.insert.run(ms, input.topic, input.subject ?? null, input.session ?? null, body).lastInsertRowid);
    return { event: { id, ...toStored(input, ts) } as FleetEvent, row: { id, topic: input.topic, json: `{"id":${id},${body.slice(1)}` } };
  }

  /** After a batch is on disk: advance the high-water mark, tell listeners, apply the count cap. */
  private afterCommit(batch: Committed[]): void {
    this.lastIdValue = batch[batch.length - 1]!.event.id;
    if (this.firstIdValue > this.lastIdValue) this.firstIdValue = batch[0]!.event.id;
    for (const { event, row } of batch) for (const l of this.listeners) l(event, row);
    if (this.lastIdValue - this.firstIdValue + 1 > this.retention.maxEvents + this.retentionSlack) this.trim();
  }

  /** Registers a callback for every committed event; returns the unsubscribe function. */
  onCommit(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events with id > afterId, oldest first, at most `limit` rows and about `maxBytes` of JSON
   * (never less than one row). When afterId points into history that retention
   * already trimmed, the first row is a synthetic `fleet.gap` event (id = last trimmed id).
   */
  readRows(afterId: number, opts: ReadOptions = {}): LogRow[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 1000, 100_000));
    const maxBytes = Math.max(1, opts.maxBytes ?? PAGE_BYTES);
    const out = afterId < this.trimmedThrough ? [this.gapRow(afterId)] : [];
    let bytes = out.length ? Buffer.byteLength(out[0]!.json) : 0;
    const where = ['id > ?'];
    const args: unknown[] = [afterId];
    if (opts.globs?.length) {
      where.push(`(${opts.globs.map(() => 'topic GLOB ?').join(' OR ')})`);
      args.push(...opts.globs);
    }
    if (opts.subject !== undefined) {
      where.push('subject = ?');
      args.push(opts.subject);
    }
    if (out.length >= limit) return out;
    const rows = this.db
      .prepare(`SELECT id, topic, body FROM events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
      .raw()
      .iterate(...args, limit - out.length) as IterableIterator<[number, string, string]>;
    // Row by row, so a page of large events stops at its byte budget instead of loading them all.
    for (const [id, topic, body] of rows) {
      const size = Buffer.byteLength(body);
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push({ id, topic, json: `{"id":${id},${body.slice(1)}` });
    }
    return out;
  }

  /** Like readRows, parsed into events. */
  read(afterId: number, opts: ReadOptions = {}): FleetEvent[] {
    return this.readRows(afterId, opts).map((r) => JSON.parse(r.json) as FleetEvent);
  }

  /** The cursor that makes a reader start at the first event at or after a time (exclusive id). */
  cursorAtTime(ms: number): number {
    // Older than what retention kept: start just before the trim boundary, so the reader gets a fleet.gap.
    if (this.trimmedThrough > 0 && ms <= this.trimmedThroughMs) return Math.min(this.trimmedThrough - 1, this.firstIdValue - 1);
    const row = this.db.prepare('SELECT MIN(id) AS id FROM events WHERE ts_ms >= ?').get(ms) as { id: number | null };
    return row.id === null ? this.lastIdValue : row.id - 1;
  }

  /** Deletes what retention no longer keeps: beyond the count cap, and older than the age cap. */
  trim(now = Date.now()): number {
    const byCount = this.lastIdValue - this.retention.maxEvents;
    const oldest = this.db.prepare('SELECT MAX(id) AS id, MAX(ts_ms) AS ms FROM events WHERE ts_ms < ?').get(now - this.retention.maxAgeMs) as {
      id: number | null;
    };
    const through = Math.max(byCount, oldest.id ?? 0);
    if (through < this.firstIdValue) return 0;
    const last = this.db.prepare('SELECT ts_ms AS ms FROM events WHERE id <= ? ORDER BY id DESC LIMIT 1').get(through) as { ms: number } | undefined;
    const removed = this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM events WHERE id <= ?').run(through).changes;
      this.setMeta('trimmed_through', String(through));
      this.setMeta('trimmed_through_ms', String(last?.ms ?? now));
      return n;
    })();
    this.trimmedThrough = through;
    this.trimmedThroughMs = last?.ms ?? now;
    this.firstIdValue = through + 1;
    return removed;
  }

  /** Commits what is pending (and closes the database when the log opened it). */
  close(): void {
    this.flush();
    if (this.ownsDb) this.db.close();
  }

  private gapRow(afterId: number): LogRow {
    const event: FleetEvent = {
      id: this.trimmedThrough,
      ts: new Date().toISOString(),
      topic: 'fleet.gap',
      level: 'warning',
      message: `Events ${afterId + 1}..${this.trimmedThrough} were removed by retention before this reader got them`,
      data: { from: afterId + 1, to: this.trimmedThrough },
    };
    return { id: event.id, topic: event.topic, json: JSON.stringify(event) };
  }

  private getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}

/** Field order of the stored JSON; undefined fields are left out. */
function toStored(e: NewEvent, ts: string): Omit<FleetEvent, 'id'> {
  const out: Omit<FleetEvent, 'id'> = { ts, topic: e.topic, level: e.level, message: e.message };
  if (e.subject !== undefined) out.subject = e.subject;
  if (e.data !== undefined) out.data = e.data;
  if (e.session !== undefined) out.session = e.session;
  return out;
}
