import { closeSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirBelow, readRegularFile, writePrivateFile } from '../../../shared/home.js';

/** Cursor files untouched this long belong to sessions long gone. */
const PRUNE_AFTER_MS = 30 * 86_400_000;
/** A lock older than this was left by a hook that died (a hook holds it for one request). */
const STALE_LOCK_MS = 15_000;

/**
 * A file name for a Claude Code session id: safe characters kept, anything else replaced,
 * with a hash of the original when something was replaced so two ids never share a file.
 */
export function sessionFileName(sessionId: string): string {
  const safe = sessionId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  if (safe === sessionId) return safe;
  return `${safe}.${fnv1a(sessionId, 0x811c9dc5)}${fnv1a(sessionId, 0x01000193)}`;
}

/** 32-bit FNV-1a as 8 hex digits (node:crypto would add its load time to every hook). */
function fnv1a(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Most ids or names one list in a cursor file keeps (the newest). */
const MAX_LIST = 2000;
/** A cursor file larger than this was not written by fleet (its lists are capped well below). */
const MAX_FILE_BYTES = 1024 * 1024;

/** One session's file: its cursor, events it read through fleet's tools, and the work it started or waits on. */
export interface SessionState {
  /** Every event up to this id has been seen (undefined: a session not seen before). */
  after: number | undefined;
  /** Event ids past `after` the agent already read (wait_for_events, list_events): not shown again. */
  seen: number[];
  /** Background task ids this session started. */
  tasks: string[];
  /** Credential names this session asked for. */
  credentials: string[];
}

/**
 * Where one Claude Code session has read the event log up to, kept in
 * FLEET_HOME/hooks/cursors/<session>.json (0600), so each event is shown once per session.
 */
export class SessionCursor {
  private readonly home: string;
  private readonly dir: string;
  private readonly file: string;
  private readonly lockFile: string;
  private locked = false;

  constructor(home: string, sessionId: string) {
    this.home = home;
    this.dir = join(home, 'hooks', 'cursors');
    const name = sessionFileName(sessionId);
    this.file = join(this.dir, `${name}.json`);
    this.lockFile = join(this.dir, `${name}.lock`);
  }

  /** The last event id this session has seen, or undefined for a session not seen before. */
  read(): number | undefined {
    return this.state().after;
  }

  /** Everything the file holds: cursor, events already read some other way, and the session's own work. */
  state(): SessionState {
    let raw: Record<string, unknown> = {};
    try {
      // Only a regular file of fleet's own: a planted symlink, FIFO or huge file is no cursor (and must not hang the hook).
      raw = JSON.parse(readRegularFile(this.file, MAX_FILE_BYTES, { noFollow: true })) as Record<string, unknown>;
    } catch {
      // no file yet, or a broken one: a new session
    }
    const after = typeof raw.after === 'number' && Number.isSafeInteger(raw.after) && raw.after >= 0 ? raw.after : undefined;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is number => Number.isSafeInteger(x)) : []);
    const names = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { after, seen: ids(raw.seen), tasks: names(raw.tasks), credentials: names(raw.credentials) };
  }

  /** Records that the session has seen every event up to `after` (ids it read beyond stay remembered). */
  write(after: number): void {
    this.save({ ...this.state(), after });
  }

  /** Writes the whole state; `seen` keeps only ids past the cursor, lists are capped so the file stays small. */
  save(s: SessionState): void {
    this.ensureDir();
    const after = s.after ?? 0;
    const seen = [...new Set(s.seen.filter((id) => id > after))].sort((a, b) => a - b).slice(-MAX_LIST);
    const body = { after: s.after, seen, tasks: [...new Set(s.tasks)].slice(-MAX_LIST), credentials: [...new Set(s.credentials)].slice(-MAX_LIST), updatedAt: new Date().toISOString() };
    writePrivateFile(this.file, `${JSON.stringify(body)}\n`);
  }

  /**
   * Takes the session's lock so that two hooks of one session (parallel tool calls each run
   * PostToolUse) never show the same event twice; waits up to `timeoutMs` for a holder.
   */
  async lock(timeoutMs: number): Promise<void> {
    this.ensureDir();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        closeSync(openSync(this.lockFile, 'wx', 0o600));
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      try {
        if (Date.now() - statSync(this.lockFile).mtimeMs > STALE_LOCK_MS) rmSync(this.lockFile, { force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`the session's cursor is locked by another hook (${this.lockFile})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** FLEET_HOME/hooks/cursors as real private folders: a symlink planted there is refused, not followed. */
  private ensureDir(): void {
    ensurePrivateDirBelow(this.home, 'hooks', 'cursors');
  }

  unlock(): void {
    if (this.locked) rmSync(this.lockFile, { force: true });
    this.locked = false;
  }

  /** Removes cursor files of sessions idle for 30 days (run at session start). */
  prune(now = Date.now()): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(this.dir, n);
      try {
        if (n.endsWith('.json') && now - statSync(p).mtimeMs > PRUNE_AFTER_MS) rmSync(p, { force: true });
      } catch {
        // gone meanwhile
      }
    }
  }
}
