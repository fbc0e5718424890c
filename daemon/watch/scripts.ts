import { shellQuote } from '../members/framing.js';

/**
 * The POSIX sh scripts a watch runs on its member. Every script first goes to where the
 * watched path is, so what it prints is relative to it: a folder is entered and watched as
 * `.`; a single file is watched from its folder as `./NAME`. The relative path '' is the
 * watched path itself.
 */

/** What a watch looks at. */
export interface WatchTarget {
  path: string;
  recursive: boolean;
}

/** Heading line of a listing: "fleet-list HASH LINES BYTES STARTED" (STARTED: the member's clock, whole seconds, before it listed). */
export const LIST_HEAD = 'fleet-list';
/** inotifywait's own line once its watches are set up. */
export const INOTIFY_READY = 'Watches established.';
/** First line of an inotify stream: "fleet-target dir|file". */
export const TARGET_HEAD = 'fleet-target';
/** The heartbeat line of an inotify stream (how the member side finds out fleetd has gone). */
export const ALIVE = 'fleet-alive';

/** The path as a sh word: relative paths are under the login folder, as over SSH. */
function pathExpr(path: string): string {
  if (path.startsWith('/')) return shellQuote(path);
  if (path === '~') return '"$HOME"';
  return `"$HOME"/${shellQuote(path.startsWith('~/') ? path.slice(2) : path)}`;
}

/** Sets S to what find/inotifywait start from, in the right folder (a missing path gives a missing S). */
function enter(t: WatchTarget): string {
  return [
    `T=${pathExpr(t.path)}`,
    'if [ -d "$T" ]; then cd "$T" || exit 3; S=.; else cd "$(dirname "$T")" 2>/dev/null || cd /nonexistent-fleet 2>/dev/null || cd /; S="./$(basename "$T")"; fi',
  ].join('\n');
}

/** find printing "TYPE SIZE MTIME RELPATH" per entry, sorted, at most maxFiles lines (names with a newline are skipped). */
function listing(t: WatchTarget, maxFiles: number): string {
  const depth = t.recursive ? '' : ' -maxdepth 1';
  return `{ if [ -e "$S" ]; then find "$S"${depth} ! -name "*\${NL}*" -printf '%y %s %T@ %P\\n' 2>/dev/null; fi; } | LC_ALL=C sort | head -n ${maxFiles}`;
}

/** Lists a watch's tree into a temp file, prints the heading (hash, lines, bytes, member time), then `emit`. */
function listingScript(t: WatchTarget, maxFiles: number, emit: string): string {
  return [
    'A=$(date +%s)',
    enter(t),
    "NL='\n'",
    'L=$(mktemp 2>/dev/null || echo /tmp/fleet-watch.$$) || exit 3',
    `${listing(t, maxFiles)} > "$L"`,
    'H=$(md5sum < "$L" | cut -d" " -f1); N=$(wc -l < "$L" | tr -d " "); B=$(wc -c < "$L" | tr -d " ")',
    `echo "${LIST_HEAD} $H $N $B $A"`,
    emit,
    'rm -f "$L"',
  ].join('\n');
}

/**
 * One poll: the listing's hash, line and byte counts on the first line; then the listing
 * itself when its hash is not `knownHash` and it is at most `inlineBytes` (a bigger one is
 * read over a channel of its own with listScript).
 */
export function pollScript(t: WatchTarget, maxFiles: number, knownHash: string, inlineBytes: number): string {
  return listingScript(t, maxFiles, `if [ "$H" != ${shellQuote(knownHash)} ] && [ "$B" -le ${inlineBytes} ]; then cat "$L"; fi`);
}

/** The whole listing with its heading, however long (run on a channel of its own). */
export function listScript(t: WatchTarget, maxFiles: number): string {
  return listingScript(t, maxFiles, 'cat "$L"');
}

/** First line of a check: the member's clock. */
export const NOW_HEAD = 'fleet-now';

/** What the periodic check needs of one polling watch. */
export interface CheckItem {
  target: WatchTarget;
  /** Member clock (seconds): changes after it count. */
  since: number;
  /** The snapshot has files: a missing path is a change. */
  hadFiles: boolean;
}

/** A path as find's start point from the login folder: never starting with '-' (find would read an option). */
export function startPoint(path: string): string {
  if (path.startsWith('/')) return path;
  if (path === '~') return '.';
  return `./${path.startsWith('~/') ? path.slice(2) : path}`;
}

/**
 * The periodic check of a member's polling watches, one command for all of them: a find over
 * every watched path (one for the recursive ones, one for the rest) prints the start point of
 * any entry whose inode changed (written, created, renamed, chmod; a deletion changes its
 * folder) after the earliest `since`; a path that is gone while its snapshot had files is
 * printed too. Output: "fleet-now SECONDS" (member clock, before looking), then the start
 * points that need a listing, once each.
 */
export function checkScript(items: CheckItem[]): string {
  const since = Math.floor(Math.min(...items.map((i) => i.since)));
  const find = (list: CheckItem[], depth: string) =>
    list.length ? `find ${list.map((i) => shellQuote(startPoint(i.target.path))).join(' ')}${depth} -newerct @${since} -printf '%H\\n' 2>/dev/null` : '';
  const gone = items.filter((i) => i.hadFiles).map((i) => `[ -e ${shellQuote(startPoint(i.target.path))} ] || echo ${shellQuote(startPoint(i.target.path))}`);
  const steps = [find(items.filter((i) => i.target.recursive), ''), find(items.filter((i) => !i.target.recursive), ' -maxdepth 1'), ...gone].filter(Boolean);
  // The member's clock first: a watch with no hit looks from there next time.
  return ['cd "$HOME" 2>/dev/null || cd /', `echo "${NOW_HEAD} $(date +%s)"`, `{ ${steps.join('; ')}; } | LC_ALL=C sort -u`].join('\n');
}

/** Prints "inotify=yes|no" and whether the path is there now. */
export function probeScript(t: WatchTarget): string {
  return [`T=${pathExpr(t.path)}`, 'if command -v inotifywait >/dev/null 2>&1; then echo inotify=yes; else echo inotify=no; fi', 'if [ -e "$T" ]; then echo exists=yes; else echo exists=no; fi'].join('\n');
}

/**
 * inotifywait -m on the watched folder (a file's own folder, not recursive), one event per
 * line "EVENTS|./relpath". A heartbeat writes a line every `aliveSeconds`: once nobody reads
 * the channel (fleetd gone, link dropped) the write fails and inotifywait is stopped, so no
 * watcher is left behind on the member.
 */
export function inotifyScript(t: WatchTarget, aliveSeconds: number): string {
  const recursive = t.recursive ? '-r' : '';
  return [
    enter(t),
    '[ -e "$S" ] || { echo "fleet-missing"; exit 4; }',
    // A single file is watched through its folder (an editor's save replaces the file), never recursively.
    `if [ "$S" = . ]; then echo "${TARGET_HEAD} dir"; R=${recursive}; else echo "${TARGET_HEAD} file"; R=; fi`,
    'exec 2>&1',
    `inotifywait -m $R -e create,modify,attrib,close_write,delete,delete_self,moved_to,moved_from,move_self --format '%e|%w%f' . &`,
    'W=$!',
    // sleep's own output goes nowhere, so only the loop holds the channel: killed, it lets the channel close.
    `( trap '' PIPE; while sleep ${aliveSeconds} >/dev/null 2>&1; do echo ${ALIVE} || break; done; kill $W 2>/dev/null ) &`,
    'H=$!',
    "trap 'kill $W $H 2>/dev/null; exit 0' TERM HUP INT",
    // inotifywait ending (its folder gone, a limit hit) ends the stream: fleetd restarts the watch.
    'wait $W',
    'kill $H 2>/dev/null',
  ].join('\n');
}
