import type { FleetContext } from '../context.js';
import type { McpMessageStore } from './message-store.js';
import type { McpSession } from './session.js';

/** Live MCP sessions by id, with idle expiry; keeps ctx.liveSessions in step. */
export class SessionTable {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  /** Sessions being initialized: counted against the cap before they are added. */
  private reserved = 0;

  constructor(
    private readonly ctx: FleetContext,
    private readonly store: McpMessageStore,
    private readonly idleMs: number,
    /** config mcp.maxSessions */
    readonly maxSessions = 1000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, idleMs / 4)));
    this.sweeper.unref();
  }

  get(id: string): McpSession | undefined {
    return this.sessions.get(id);
  }

  add(session: McpSession): void {
    this.sessions.set(session.id, session);
    this.ctx.liveSessions.add(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Holds a place for a session about to be initialized, expiring the idlest sessions that
   * have no open stream when the table is full; undefined when every session holds a stream.
   * The caller releases the place once the session is added (or refused).
   */
  reserve(): (() => void) | undefined {
    const excess = this.sessions.size + this.reserved + 1 - this.maxSessions;
    if (excess > 0) {
      const idlest = [...this.sessions.values()].filter((s) => s.openStreams === 0).sort((a, b) => a.lastSeen - b.lastSeen);
      for (const s of idlest.slice(0, excess)) void this.close(s.id);
      if (this.sessions.size + this.reserved + 1 > this.maxSessions) return undefined;
    }
    this.reserved++;
    let held = true;
    return () => {
      if (held) this.reserved--;
      held = false;
    };
  }

  /** Ends a session and forgets its stored streams. */
  async close(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.ctx.liveSessions.delete(id);
    await session.close();
    try {
      this.store.deleteSession(id);
    } catch (e) {
      // A full disk must not turn a session's end into a crash; its rows are dropped at the next start.
      console.error(`fleetd: could not delete the stored messages of MCP session ${id}: ${(e as Error).message}`);
    }
  }

  /** Sessions without an open stream and idle past the limit are closed (clients get 404 and re-initialize). */
  sweep(now = Date.now()): void {
    for (const s of this.sessions.values()) {
      if (s.openStreams === 0 && now - s.lastSeen > this.idleMs) void this.close(s.id);
      else this.trim(s.id);
    }
  }

  private trim(id: string): void {
    try {
      this.store.trimSession(id);
    } catch (e) {
      console.error(`fleetd: could not trim the stored messages of MCP session ${id} (will retry): ${(e as Error).message}`);
    }
  }

  /** Lets every session's pusher deliver what is already committed (bounded). */
  async drainAll(timeoutMs = 1000): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.pusher.drain(timeoutMs)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }
}
