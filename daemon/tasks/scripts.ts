import { commandBody, shellQuote, type CommandSpec } from '../members/framing.js';

/**
 * The POSIX sh scripts fleetd runs on a member for background tasks. Every task has a
 * folder `<root>/<id>/` holding `run` (the wrapper), `out`, `err`, `pid` ("pid starttime",
 * the start time from /proc so a reused pid is not mistaken for the task), and once it
 * ended `exit` (the code; its mtime is when). The wrapper appends "<id> <code>" to
 * `<root>/exit.log`, which the member's watcher follows: that line is how fleetd is told.
 * fleetd then reads the output tails itself (over SFTP, no process on the member). Having the
 * watcher send them after each exit line instead (two `tail` processes per exit on the member,
 * no second round trip) was measured slower under load: p50 15-23 ms against 4-11, p99 about
 * twice, at load 7-9 on the tasks bench.
 */

/** Task ids are generated here and checked at every boundary: they are pasted into scripts. */
export const TASK_ID = /^t-[0-9a-f]{16}$/;

/** The tasks root on the member as a sh expression (relative roots are under $HOME). */
export function rootExpr(root: string): string {
  return root.startsWith('/') ? shellQuote(root) : `"$HOME"/${shellQuote(root)}`;
}

function dirOf(root: string, id: string): string {
  if (!TASK_ID.test(id)) throw new Error(`bad task id ${id}`);
  return `${rootExpr(root)}/${id}`;
}

/** A task's file as a path relative to the member's home (or absolute): what SFTP takes. */
export function taskFile(root: string, id: string, name: 'out' | 'err'): string {
  if (!TASK_ID.test(id)) throw new Error(`bad task id ${id}`);
  return `${root.replace(/\/+$/, '')}/${id}/${name}`;
}

/**
 * The wrapper, written to `<dir>/run` and started under setsid: its own session and
 * process group (pgid = its pid), so stop_task can signal the whole tree and a dropped
 * SSH channel sends it no SIGHUP. Its exit path is shell built-ins only (a fork costs tens
 * of ms on a busy member): the exit line first (one short O_APPEND write, so concurrent
 * wrappers cannot interleave), then the exit file the fallback poll reads.
 */
function wrapper(spec: CommandSpec, stdin: 'null' | 'file'): string {
  return [
    'd=${0%/run}; R=${d%/*}; id=${d##*/}',
    `( ${commandBody(spec)}\n) < ${stdin === 'file' ? '"$d/stdin"' : '/dev/null'}`,
    'rc=$?',
    `printf '%s %s\\n' "$id" "$rc" >> "$R/exit.log"`,
    `printf '%s\\n' "$rc" > "$d/exit"`,
    '',
  ].join('\n');
}

/**
 * Creates the task folder, writes the wrapper (and the stdin file: a prompt never appears
 * in the process list, printf being a shell builtin), starts it detached and prints
 * "pid starttime" (also kept in `pid`). The start script's shell leads its own process
 * group, so setsid does not fork again and $! is the wrapper.
 */
export function startScript(root: string, id: string, spec: CommandSpec, stdinText?: string): string {
  const d = dirOf(root, id);
  return [
    `d=${d}; mkdir -p "$d" || exit 90`,
    // Only its owner may read the wrapper (it holds {{secure.NAME}} values filled in) or a prompt (it may hold anything); the task's own files keep the login's umask.
    `(umask 077 && printf '%s' ${shellQuote(wrapper(spec, stdinText === undefined ? 'null' : 'file'))} > "$d/run") || exit 91`,
    ...(stdinText === undefined ? [] : [`(umask 077 && printf '%s' ${shellQuote(stdinText)} > "$d/stdin") || exit 91`]),
    ': > "$d/out"; : > "$d/err"',
    'if command -v setsid >/dev/null 2>&1; then setsid /bin/sh "$d/run" </dev/null >>"$d/out" 2>>"$d/err" & p=$!; w=1; else /bin/sh "$d/run" </dev/null >>"$d/out" 2>>"$d/err" & p=$!; w=0; fi',
    // Fields of /proc/PID/stat (comm, setsid or sh, has no spaces; read is a builtin): 6 is the
    // session, 22 the start time. The script waits for the new session: the pool stops what
    // is left in this script's process group when it ends, which the wrapper must be out of.
    'i=0; while :; do s=; read -r s 2>/dev/null < /proc/$p/stat; set -- $s X X X X X X; [ "$w" = 0 ] || [ "$6" = "$p" ] || [ -z "$s" ] && break',
    '  i=$((i+1)); [ $i -gt 2000 ] && exit 93; [ $i -gt 20 ] && sleep 0.005; done',
    'st=${22:-0}',
    `printf '%s %s\\n' "$p" "$st" > "$d/pid" || exit 92`,
    `printf '%s %s\\n' "$p" "$st"`,
  ].join('\n');
}

/**
 * The member's watcher: prints "ready" once it follows exit.log from its current end, then
 * every exit line as the wrappers append them (tail -F: inotify, so at once). It ends
 * with the SSH session that runs it (--pid) instead of outliving fleetd. The 20 ms interval
 * is how often tail checks that pid, and how often it stats exit.log when it cannot have an
 * inotify instance (fs.inotify.max_user_instances, 128 per user, runs out on busy hosts):
 * polling at 0.1 s put 50 ms on a p50 measured that way, 20 ms puts 10; tail idles at about
 * 0.1 % of a core either way.
 */
export function watcherScript(root: string): string {
  const r = rootExpr(root);
  return `R=${r}; mkdir -p "$R" && touch "$R/exit.log" && s=$(wc -c < "$R/exit.log") && echo "ready $s" && exec tail -s 0.02 --pid=$PPID -c +$((s+1)) -F "$R/exit.log" 2>/dev/null`;
}

/**
 * First, from one `stat`, "<id>/<out|err|exit> <bytes> <mtime>" for the files there; then
 * one line per task: "<id> exit <code>", "<id> running", "<id> gone" (its process is not
 * there, or another process has its pid) or "<id> missing". Built-ins apart from that one
 * stat, so a poll of 200 tasks costs the member one process. The exit file is read again
 * after the process is found gone (it may just have ended).
 */
export function pollScript(root: string, ids: string[]): string {
  const r = rootExpr(root);
  for (const id of ids) if (!TASK_ID.test(id)) throw new Error(`bad task id ${id}`);
  return [
    `R=${r}`,
    `cd "$R" 2>/dev/null && stat -c '%n %s %Y' -- ${ids.map((id) => `${id}/out ${id}/err ${id}/exit`).join(' ')} 2>/dev/null`,
    'code() { c=; [ -f "$R/$1/exit" ] && read -r c _ 2>/dev/null < "$R/$1/exit"; [ -n "$c" ]; }',
    `for id in ${ids.join(' ')}; do d="$R/$id"`,
    '  if code $id; then echo "$id exit $c"; continue; fi',
    '  if [ ! -d "$d" ]; then echo "$id missing"; continue; fi',
    '  p=0; st=0; read -r p st _ 2>/dev/null < "$d/pid"',
    '  s=; [ "${p:-0}" -gt 0 ] 2>/dev/null && read -r s 2>/dev/null < /proc/$p/stat',
    // State and start time: a zombie (killed, not yet reaped) is as gone as a reused pid.
    '  set -- $s; if [ -n "$s" ] && [ "$3" != Z ] && [ "$3" != X ] && [ "${22}" = "$st" ]; then echo "$id running";',
    '  elif code $id; then echo "$id exit $c";',
    '  else echo "$id gone"; fi',
    'done',
  ].join('\n');
}

/** The last `bytes` of stdout (on stdout) and of stderr (on stderr); regular files only (a FIFO put there would block the read). */
export function tailScript(root: string, id: string, bytes: number): string {
  const d = dirOf(root, id);
  return `d=${d}; [ -f "$d/out" ] && tail -c ${bytes} "$d/out" 2>/dev/null; [ -f "$d/err" ] && tail -c ${bytes} "$d/err" >&2 2>/dev/null; true`;
}

/**
 * The stream's size in bytes on the first line, then up to `length` bytes of it from `offset`
 * in base64: bytes exactly as written (a cut through a UTF-8 character or a line is mended by
 * fleetd, see output-range.ts), so a reader can continue at offset + bytes read.
 */
export function rangeScript(root: string, id: string, stream: 'out' | 'err', offset: number, length: number): string {
  const d = dirOf(root, id);
  return `f=${d}/${stream}; [ -f "$f" ] || exit 3; wc -c < "$f" && tail -c +${offset + 1} "$f" | head -c ${length} | base64`;
}

/**
 * Stops a task's process group and whatever moved to a group of its own inside the task's
 * session (`timeout`, which execute_prompt uses, does that): SIGTERM, up to `graceS` seconds
 * for them to go, then SIGKILL. Prints "stopped" once none is left, "gone" when the task had
 * already ended, "alive" when something survived even SIGKILL.
 */
export function stopScript(root: string, id: string, graceS: number): string {
  const d = dirOf(root, id);
  const steps = Math.max(1, Math.round(graceS * 20));
  return [
    `d=${d}; set -- $(cat "$d/pid" 2>/dev/null) 0 0; g=$1; st=$2`,
    'set -- $(cut -d" " -f3,22 /proc/$g/stat 2>/dev/null) X 0',
    'if [ "$g" = 0 ] || [ "$1" = Z ] || [ "$1" = X ] || [ "$2" != "$st" ]; then echo gone; exit 0; fi',
    // Live members of the group (zombies waiting to be reaped do not count).
    "live() { ps -e -o pgid= -o sid= -o stat= 2>/dev/null | awk -v g=$g '($1 == g || $2 == g) && $3 !~ /^Z/ { n++ } END { exit n ? 0 : 1 }'; }",
    // The session's other groups (the wrapper leads the session, so its sid is g).
    "others() { ps -e -o pgid= -o sid= 2>/dev/null | awk -v g=$g '$2 == g && $1 != g { print $1 }' | sort -u; }",
    'sig() { kill -s $1 -- -$g 2>/dev/null; for o in $(others); do kill -s $1 -- -$o 2>/dev/null; done; }',
    'sig TERM',
    `i=0; while live && [ $i -lt ${steps} ]; do sleep 0.05; i=$((i+1)); done`,
    'if live; then sig KILL; i=0; while live && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; fi',
    'if live; then echo alive; else echo stopped; fi',
  ].join('\n');
}

/** Removes a finished task's folder. */
export function forgetScript(root: string, id: string): string {
  return `rm -rf -- ${dirOf(root, id)}`;
}
