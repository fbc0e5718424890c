import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { until, type FleetdProcess } from '../helpers/fleetd.js';
import type { FleetEventLike, McpTestClient } from '../helpers/mcp.js';

/** Watch settings for tests: quick polls and a short debounce. */
export const FAST_WATCH = { pollInterval: 0.3, debounce: 0.1, maxDelay: 0.5 };

/** file.changed data. */
export interface FileChange {
  member: string;
  path: string;
  change: 'created' | 'modified' | 'deleted';
  watch: string;
  method: 'inotify' | 'poll';
}

/**
 * A folder of links to every command in /usr/bin, /usr/sbin and /bin except inotify-tools':
 * as a member's PATH it makes a member "without inotify-tools" on a machine that has them.
 */
export function pathWithoutInotify(dir: string): string {
  const bin = join(dir, 'bin-without-inotify');
  mkdirSync(bin, { recursive: true });
  for (const from of ['/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    let names: string[] = [];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith('inotifywa')) continue;
      try {
        symlinkSync(join(from, name), join(bin, name));
      } catch {
        // already linked from an earlier folder
      }
    }
  }
  return bin;
}

/** Every file.changed in the log (not just what one session saw pushed). */
export async function fileLog(fleetd: FleetdProcess): Promise<(FleetEventLike & { data: FileChange })[]> {
  const r = await fleetd.fetch('/events?since=0&topic=file.changed&limit=10000', { headers: { accept: 'application/json' } });
  return ((await r.json()) as { events: (FleetEventLike & { data: FileChange })[] }).events;
}

/** Waits until the log holds a file.changed for `path` with `change`; returns it. */
export function waitForChange(fleetd: FleetdProcess, path: string, change: FileChange['change'], timeoutMs = 15_000): Promise<FleetEventLike & { data: FileChange }> {
  return until(`file.changed ${change} ${path}`, async () => (await fileLog(fleetd)).find((e) => e.data.path === path && e.data.change === change), timeoutMs, 50);
}

/** A watch as list_watches shows it. */
export interface WatchView {
  id: string;
  member: string;
  path: string;
  method: string;
  requested: string;
  state: string;
  files: number;
  quiet: boolean;
  lastError?: string;
}

/** Waits until a watch runs and everything it saw is committed. */
export function waitQuiet(mcp: McpTestClient, id: string, timeoutMs = 15_000): Promise<WatchView> {
  return until(
    `watch ${id} running and quiet`,
    async () => {
      const { watches } = await mcp.call<{ watches: WatchView[] }>('list_watches');
      const w = watches.find((x) => x.id === id);
      return w && w.state === 'running' && w.quiet ? w : undefined;
    },
    timeoutMs,
    100,
  );
}
