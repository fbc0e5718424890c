import Database from 'better-sqlite3';
import type { EventStore, StreamId, EventId, JSONRPCMessage } from '@modelcontextprotocol/server';
import { GroupCommitter } from '../events/group-commit.js';
import { isStorageFailure } from '../events/storage-error.js';

/** The SDK names every session's standalone GET stream the same; we key by session too. */
export const GET_STREAM = '_GET_stream';

interface Row {
  id: number;
  session: string;
  stream: string;
  text: string;
}

/**
 * The messages sent on each MCP session's SSE streams, in `fleet.db`, so a client that
 * reconnects with Last-Event-ID gets what it missed. Rows are keyed by (session, stream);
 * ids are handed out in order by this store (never timestamps) and kept as rowids, so order
 * is exact. Priming events are stored with empty text and never replayed as messages.
 */
export class McpMessageStore {
  private readonly db: Database.Database;
  private readonly writer: GroupCommitter<Row, number>;
  private readonly insert: Database.Statement;
  /** Per session, the newest id trimmed away by the backlog cap. */
  private readonly trimmedThrough = new Map<string, number>();
  /**
   * Ids are handed out here, not by SQLite, so rows the disk had no room for keep their
   * place in the order. Those rows stay in memory (bounded) and are replayed from there.
   */
  private nextId: number;
  private readonly unsaved = new Map<number, Row>();

  /**
   * Opens its own connection to fleet.db without an fsync per commit: these rows are copies
   * of durable fleet events and tool results for sessions that end with the process anyway,
   * so an fsync per tool call and per notification would buy nothing. synchronous=NORMAL
   * (not OFF) and no automatic checkpoints on this connection, because a checkpoint copies
   * the event log's pages too and must stay fsync'd: the log's own connection runs them.
   */
  constructor(
    path: string,
    private readonly perSessionCap = 10_000,
    /** Takes secret values out of a message before it reaches disk (tool results are kept for resumption). */
    private readonly scrub: (m: JSONRPCMessage) => JSONRPCMessage = (m) => m,
  ) {
    const db = (this.db = new Database(path));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('busy_timeout = 5000');
    // Its table comes from daemon/db/migrations.ts, run by fleet.db's owner before this opens.
    // Sessions do not survive a restart (clients get 404 and re-initialize): drop their streams.
    db.exec('DELETE FROM mcp_messages');
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'mcp_messages'").get() as { seq: number } | undefined;
    this.nextId = (seq?.seq ?? 0) + 1;
    this.insert = db.prepare('INSERT INTO mcp_messages (id, session, stream, message) VALUES (?, ?, ?, ?)');
    this.writer = new GroupCommitter(db, (r) => {
      this.insert.run(r.id, r.session, r.stream, r.text);
      return r.id;
    });
  }

  /**
   * Stores one message (or a priming marker when `message` is undefined); resolves with its
   * id. When the disk is full the message is kept in memory instead: a session must go on
   * working (initialize, read-only tools, pushes) while fleet.db cannot grow.
   */
  store(session: string, stream: string, message: JSONRPCMessage | undefined): Promise<number> {
    const row: Row = { id: this.nextId++, session, stream, text: message === undefined || Object.keys(message).length === 0 ? '' : JSON.stringify(this.scrub(message)) };
    return this.writer.submit(row).catch((e: unknown) => {
      if (!isStorageFailure(e)) throw e;
      this.keepUnsaved(row);
      return row.id;
    });
  }

  /** Holds a row the disk refused, dropping the oldest beyond the backlog cap (resumes past them get a gap notice). */
  private keepUnsaved(row: Row): void {
    this.unsaved.set(row.id, row);
    for (const [id, old] of this.unsaved) {
      if (this.unsaved.size <= this.perSessionCap) break;
      this.unsaved.delete(id);
      this.trimmedThrough.set(old.session, Math.max(this.trimmedThrough.get(old.session) ?? 0, id));
    }
  }

  /** The stream an id belongs to, when it belongs to this session. */
  streamOf(session: string, id: number): string | undefined {
    this.writer.flush();
    const kept = this.unsaved.get(id);
    if (kept) return kept.session === session ? kept.stream : undefined;
    const row = this.db.prepare('SELECT stream FROM mcp_messages WHERE id = ? AND session = ?').get(id, session) as { stream: string } | undefined;
    return row?.stream;
  }

  /** True when a client of this session may resume after `id`: a stored id, or one the backlog cap trimmed. */
  canResume(session: string, id: number): boolean {
    return this.streamOf(session, id) !== undefined || id <= (this.trimmedThrough.get(session) ?? 0);
  }

  /**
   * Sends every message after `afterId` on the same session and stream, in order; returns
   * the stream. When `afterId` was trimmed by the backlog cap, a warning notification says
   * so first (never a silent hole), then the standalone stream replays what is kept.
   */
  async replay(session: string, afterId: number, send: (id: number, message: JSONRPCMessage) => Promise<void>): Promise<string> {
    let stream = this.streamOf(session, afterId);
    if (stream === undefined) {
      const trimmed = this.trimmedThrough.get(session) ?? 0;
      if (afterId > trimmed) throw new Error(`event id ${afterId} is not from this session`);
      stream = GET_STREAM;
      await send(trimmed, gapNotice(afterId, trimmed));
    }
    const rows = this.db
      .prepare("SELECT id, message FROM mcp_messages WHERE session = ? AND stream = ? AND id > ? AND message != '' ORDER BY id")
      .raw()
      .all(session, stream, afterId) as [number, string][];
    for (const r of this.unsaved.values()) if (r.session === session && r.stream === stream && r.id > afterId && r.text !== '') rows.push([r.id, r.text]);
    rows.sort((a, b) => a[0] - b[0]);
    for (const [id, text] of rows) await send(id, JSON.parse(text) as JSONRPCMessage);
    return stream;
  }

  /** Forgets a session's streams. */
  deleteSession(session: string): void {
    this.writer.flush();
    this.trimmedThrough.delete(session);
    for (const [id, r] of this.unsaved) if (r.session === session) this.unsaved.delete(id);
    this.db.prepare('DELETE FROM mcp_messages WHERE session = ?').run(session);
  }

  /** Keeps at most the newest `perSessionCap` messages of a session. */
  trimSession(session: string): void {
    const cut = this.db.prepare('SELECT id FROM mcp_messages WHERE session = ? ORDER BY id DESC LIMIT 1 OFFSET ?').get(session, this.perSessionCap) as { id: number } | undefined;
    if (!cut) return;
    this.db.prepare('DELETE FROM mcp_messages WHERE session = ? AND id <= ?').run(session, cut.id);
    this.trimmedThrough.set(session, cut.id);
  }

  /** Commits what is pending and closes the connection. */
  close(): void {
    this.writer.flush();
    this.db.close();
  }

  /** The SDK-facing EventStore of one session (its id is known only after initialize). */
  forSession(sessionId: () => string | undefined): EventStore {
    const store = this;
    const sid = () => {
      const s = sessionId();
      if (!s) throw new Error('session not initialized');
      return s;
    };
    return {
      async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
        return String(await store.store(sid(), streamId, message));
      },
      async replayEventsAfter(lastEventId: EventId, { send }): Promise<StreamId> {
        return store.replay(sid(), Number(lastEventId), (id, m) => send(String(id), m));
      },
    };
  }
}

/** The notification that stands in for messages the backlog cap removed before a client resumed. */
function gapNotice(afterId: number, trimmedThrough: number): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    method: 'notifications/message',
    params: {
      level: 'warning',
      logger: 'fleet',
      data: {
        topic: 'fleet.gap',
        level: 'warning',
        ts: new Date().toISOString(),
        message: `Notifications ${afterId + 1}..${trimmedThrough} of this session were dropped before this client came back; call wait_for_events with the last fleet event id you saw to catch up`,
        data: { from: afterId + 1, to: trimmedThrough },
      },
    },
  };
}
