import { commandBody, shellQuote, type CommandSpec } from '../members/framing.js';

/**
 * The POSIX sh scripts fleetd runs on a member for background tasks. Every task has a
 * folder `<root>/<id>/` holding `run` (the wrapper), `out`, `err`, `pid` ("pid starttime",
 * the start time from /proc so a reused pid is not mistaken for the task), and once it
 * ended `exit` ("code epoch-seconds"). The wrapper also appends "<id> <code> <epoch>" to
 * `<root>/exit.log`, which the member's watcher follows: that line is how fleetd is told.
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

/** Bytes of each stream's tail in the exit line. */
const EXIT_LINE_TAIL = 1536;

/** A process's start time (field 22 of /proc/PID/stat; comm of a task wrapper has no spaces). */
const START_TIME = (pid: string) => `cut -d' ' -f22 /proc/${pid}/stat 2>/dev/null`;

/**
 * The wrapper, written to `<dir>/run` and started under setsid: its own session and
 * process group (pgid = its pid), so stop_task can signal the whole tree and a dropped
 * SSH channel sends it no SIGHUP.
 */
function wrapper(spec: CommandSpec, stdin: 'null' | 'file'): string {
  return [
    'd=${0%/run}; R=${d%/*}; id=${d##*/}',
    `st=$(${START_TIME('$$')}); printf '%s %s\\n' "$$" "\${st:-0}" > "$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"`,
    `( ${commandBody(spec)}\n) < ${stdin === 'file' ? '"$d/stdin"' : '/dev/null'}`,
    'rc=$?; t=$(date +%s)',
    `printf '%s %s\\n' "$rc" "$t" > "$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit"`,
    // The exit line carries the output tails (base64), so fleetd needs no second round trip;
    // written with one write (cat) so concurrent wrappers cannot interleave their lines.
    `o=$(tail -c ${EXIT_LINE_TAIL} "$d/out" 2>/dev/null | base64 | tr -d '\\n'); e=$(tail -c ${EXIT_LINE_TAIL} "$d/err" 2>/dev/null | base64 | tr -d '\\n')`,
    `printf '%s %s %s %s %s\\n' "$id" "$rc" "$t" "$o" "$e" > "$d/exit.line" && cat "$d/exit.line" >> "$R/exit.log"`,
    '',
  ].join('\n');
}

/**
 * Creates the task folder, writes the wrapper (and the stdin file: a prompt never appears
 * in the process list, printf being a shell builtin), starts it detached and waits (a
 * second at most) for its pid file, which it prints.
 */
export function startScript(root: string, id: string, spec: CommandSpec, stdinText?: string): string {
  const d = dirOf(root, id);
  return [
    `d=${d}; mkdir -p "$d" || exit 90`,
    `printf '%s' ${shellQuote(wrapper(spec, stdinText === undefined ? 'null' : 'file'))} > "$d/run" || exit 91`,
    ...(stdinText === undefined ? [] : [`printf '%s' ${shellQuote(stdinText)} > "$d/stdin" || exit 91`]),
    ': > "$d/out"; : > "$d/err"',
    'if command -v setsid >/dev/null 2>&1; then setsid /bin/sh "$d/run" </dev/null >>"$d/out" 2>>"$d/err" & else /bin/sh "$d/run" </dev/null >>"$d/out" 2>>"$d/err" & fi',
    'i=0; while [ ! -s "$d/pid" ] && [ $i -lt 200 ]; do sleep 0.005 2>/dev/null || sleep 1; i=$((i+1)); done',
    'cat "$d/pid" 2>/dev/null || exit 92',
  ].join('\n');
}

/**
 * The member's watcher: prints "ready" once it follows exit.log from its current end, then
 * every exit line as the wrappers append them (tail -F: inotify, so at once). It ends
 * with the SSH session that runs it (--pid) instead of outliving fleetd.
 */
export function watcherScript(root: string): string {
  const r = rootExpr(root);
  return `R=${r}; mkdir -p "$R" && touch "$R/exit.log" && s=$(wc -c < "$R/exit.log") && echo "ready $s" && exec tail -s 0.1 --pid=$PPID -c +$((s+1)) -F "$R/exit.log" 2>/dev/null`;
}

/**
 * One line per task: "<id> exit <code> <epoch> <bytes>", "<id> running - - <bytes>",
 * "<id> gone" (its process is not there, or another process has its pid) or "<id> missing".
 * The exit file is checked again after the process is found gone (it may just have ended).
 */
export function pollScript(root: string, ids: string[]): string {
  const r = rootExpr(root);
  for (const id of ids) if (!TASK_ID.test(id)) throw new Error(`bad task id ${id}`);
  return [
    `R=${r}`,
    `for id in ${ids.join(' ')}; do d="$R/$id"`,
    '  sz=$(( $(stat -c %s "$d/out" 2>/dev/null || echo 0) + $(stat -c %s "$d/err" 2>/dev/null || echo 0) ))',
    '  if [ -f "$d/exit" ]; then echo "$id exit $(cat "$d/exit") $sz"; continue; fi',
    '  if [ ! -d "$d" ]; then echo "$id missing"; continue; fi',
    '  set -- $(cat "$d/pid" 2>/dev/null) 0 0; p=$1; st=$2',
    // State and start time: a zombie (killed, not yet reaped) is as gone as a reused pid.
    '  set -- $(cut -d" " -f3,22 /proc/$p/stat 2>/dev/null) X 0',
    '  if [ "$p" != 0 ] && [ "$1" != Z ] && [ "$1" != X ] && [ "$2" = "$st" ]; then echo "$id running - - $sz";',
    '  elif [ -f "$d/exit" ]; then echo "$id exit $(cat "$d/exit") $sz";',
    '  else echo "$id gone"; fi',
    'done',
  ].join('\n');
}

/** The last `bytes` of stdout (on stdout) and of stderr (on stderr). */
export function tailScript(root: string, id: string, bytes: number): string {
  const d = dirOf(root, id);
  return `d=${d}; tail -c ${bytes} "$d/out" 2>/dev/null; tail -c ${bytes} "$d/err" >&2 2>/dev/null; true`;
}

/** `length` bytes of one stream from `offset`. */
export function rangeScript(root: string, id: string, stream: 'out' | 'err', offset: number, length: number): string {
  const d = dirOf(root, id);
  return `tail -c +${offset + 1} ${d}/${stream} 2>/dev/null | head -c ${length}`;
}

/**
 * Stops a task's process group: SIGTERM, up to `graceS` seconds for it to go, then SIGKILL.
 * Prints "stopped" once no process of the group is left, "gone" when the task had already
 * ended, "alive" when something survived even SIGKILL.
 */
export function stopScript(root: string, id: string, graceS: number): string {
  const d = dirOf(root, id);
  const steps = Math.max(1, Math.round(graceS * 20));
  return [
    `d=${d}; set -- $(cat "$d/pid" 2>/dev/null) 0 0; g=$1; st=$2`,
    'set -- $(cut -d" " -f3,22 /proc/$g/stat 2>/dev/null) X 0',
    'if [ "$g" = 0 ] || [ "$1" = Z ] || [ "$1" = X ] || [ "$2" != "$st" ]; then echo gone; exit 0; fi',
    // Live members of the group (zombies waiting to be reaped do not count).
    "live() { ps -e -o pgid= -o stat= 2>/dev/null | awk -v g=$g '$1 == g && $2 !~ /^Z/ { n++ } END { exit n ? 0 : 1 }'; }",
    'kill -s TERM -- -$g 2>/dev/null',
    `i=0; while live && [ $i -lt ${steps} ]; do sleep 0.05; i=$((i+1)); done`,
    'if live; then kill -s KILL -- -$g 2>/dev/null; i=0; while live && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; fi',
    'if live; then echo alive; else echo stopped; fi',
  ].join('\n');
}

/** Removes a finished task's folder. */
export function forgetScript(root: string, id: string): string {
  return `rm -rf -- ${dirOf(root, id)}`;
}
