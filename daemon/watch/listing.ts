import { globMatches } from '../../shared/events.js';
import { LIST_HEAD } from './scripts.js';

/** created | modified | deleted, as file.changed says. */
export type Change = 'created' | 'modified' | 'deleted';

/** Longest line taken from a member (PATH_MAX plus the fields); longer ones are dropped. */
export const MAX_LINE = 4096 + 64;

/** A listing's heading: the member's hash of it and its size. */
export interface ListHead {
  hash: string;
  lines: number;
  bytes: number;
  /** The member's clock (seconds) when it started listing. */
  startedAt: number;
}

/** Reads "fleet-list HASH LINES BYTES STARTED"; undefined when the line is not one. */
export function parseHead(line: string): ListHead | undefined {
  const m = new RegExp(`^${LIST_HEAD} ([0-9a-f]{32}) (\\d+) (\\d+) (\\d+)$`).exec(line.trim());
  return m ? { hash: m[1]!, lines: Number(m[2]), bytes: Number(m[3]), startedAt: Number(m[4]) } : undefined;
}

/** Which relative paths a watch reports: include (any, when given) and not exclude. A glob without '/' is matched against the name alone. */
export class PathFilter {
  constructor(
    private readonly include: readonly string[],
    private readonly exclude: readonly string[],
  ) {}

  private static hit(glob: string, rel: string): boolean {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    return globMatches(glob, glob.includes('/') ? rel : name);
  }

  /** The watched path itself ('') is always reported. */
  accepts(rel: string): boolean {
    if (rel === '') return true;
    if (this.exclude.some((g) => PathFilter.hit(g, rel))) return false;
    return this.include.length === 0 || this.include.some((g) => PathFilter.hit(g, rel));
  }
}

/**
 * Parses listing lines "TYPE SIZE MTIME RELPATH" into relative path → signature. A folder's
 * signature is its type alone: its mtime moves with every entry in it, which is not a change
 * of its own. Malformed and over-long lines are dropped, and at most maxFiles are taken.
 */
export function parseListing(lines: Iterable<string>, filter: PathFilter, maxFiles: number): { entries: Map<string, string>; cut: boolean } {
  const entries = new Map<string, string>();
  let cut = false;
  for (const line of lines) {
    if (line === '' || line.length > MAX_LINE) continue;
    const m = /^([a-zA-Z]) (\d+) (\d+(?:\.\d+)?) (.*)$/.exec(line);
    if (!m) continue;
    const [, type, size, mtime, rel] = m;
    if (!filter.accepts(rel!)) continue;
    if (entries.size >= maxFiles) {
      cut = true;
      break;
    }
    entries.set(rel!, type === 'd' ? 'd' : `${type} ${size} ${mtime}`);
  }
  return { entries, cut };
}

/** What changed from `before` to `after`: each path once, with its new signature (null when gone). */
export function diffSnapshots(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): { rel: string; change: Change; sig: string | null }[] {
  const out: { rel: string; change: Change; sig: string | null }[] = [];
  for (const [rel, sig] of after) {
    const old = before.get(rel);
    if (old === undefined) out.push({ rel, change: 'created', sig });
    else if (old !== sig) out.push({ rel, change: old[0] !== sig[0] ? 'created' : 'modified', sig });
  }
  for (const rel of before.keys()) if (!after.has(rel)) out.push({ rel, change: 'deleted', sig: null });
  return out;
}

/** Maps inotifywait's event names ("CLOSE_WRITE,CLOSE", "CREATE,ISDIR") to a change; undefined for the rest. */
export function inotifyChange(events: string): Change | undefined {
  const names = events.split(',');
  if (names.some((n) => n === 'DELETE' || n === 'MOVED_FROM' || n === 'DELETE_SELF' || n === 'MOVE_SELF')) return 'deleted';
  if (names.some((n) => n === 'CREATE' || n === 'MOVED_TO')) return 'created';
  if (names.some((n) => n === 'MODIFY' || n === 'CLOSE_WRITE' || n === 'ATTRIB')) return 'modified';
  return undefined;
}
