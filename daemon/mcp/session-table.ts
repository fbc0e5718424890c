import type { FleetContext } from '../context.js';
import type { McpMessageStore } from './message-store.js';
import type { McpSession } from './session.js';

/** Live MCP sessions by id, with idle expiry; keeps ctx.liveSessions in step. */
export class SessionTable {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ctx: FleetContext,
    private readonly store: McpMessageStore,
    private readonly idleMs: number,
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

  /** Ends a session and forgets its stored streams. */
  async close(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.ctx.liveSessions.delete(id);
    await session.close();
    this.store.deleteSession(id);
  }

  /** Sessions without an open stream and idle past the limit are closed (clients get 404 and re-initialize). */
  sweep(now = Date.now()): void {
    for (const s of this.sessions.values()) {
      if (s.openStreams === 0 && now - s.lastSeen > this.idleMs) void this.close(s.id);
      else this.store.trimSession(s.id);
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
