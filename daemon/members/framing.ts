import { randomBytes } from 'node:crypto';

/** What to run: a shell command, optionally in a directory and with extra environment. */
export interface CommandSpec {
  command: string;
  cwd?: string;
  env?: Record<string, string>;
}

/** Quotes a string for POSIX sh: single quotes, with embedded ones spliced in. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A directory for `cd`, keeping a leading `~/` meaning the login directory. */
function quoteDir(dir: string): string {
  if (dir === '~') return '"$HOME"';
  return dir.startsWith('~/') ? `"$HOME"/${shellQuote(dir.slice(2))}` : shellQuote(dir);
}

/** A fresh end marker per command: output cannot fake the end of a command it cannot guess. */
export function newMarker(): string {
  return `__FLEET_END_${randomBytes(16).toString('hex')}`;
}

/** The command wrapped for the shell driver: cd, env and the command itself, all inside the subshell. */
export function commandBody(spec: CommandSpec): string {
  const steps: string[] = [];
  if (spec.cwd !== undefined) steps.push(`cd -- ${quoteDir(spec.cwd)} || exit 1`);
  for (const [k, v] of Object.entries(spec.env ?? {})) steps.push(`export ${k}=${shellQuote(v)}`);
  // eval of one quoted word: a syntax error in the command fails inside the subshell
  // instead of leaving the long-lived driver half-way through parsing something.
  steps.push(`eval ${shellQuote(spec.command)}`);
  return steps.join('; ');
}

/**
 * How a member's shell puts a command into a process group of its own: `setsid` (Linux,
 * BusyBox), else perl's setpgrp (macOS, BSDs), else nothing ('none': its leftovers cannot
 * be found, so a pooled shell that ran it is retired).
 */
export type GroupRunner = 'setsid' | 'perl' | 'none';

/** Shell code that prints which GroupRunner the member has. */
export const DETECT_RUNNER = 'if command -v setsid >/dev/null 2>&1; then echo setsid; elif command -v perl >/dev/null 2>&1; then echo perl; else echo none; fi';

/** Reads DETECT_RUNNER's answer. */
export function parseRunner(text: string): GroupRunner {
  const word = text.trim();
  return word === 'setsid' || word === 'perl' ? word : 'none';
}

const RUNNER_PREFIX: Record<GroupRunner, string> = {
  setsid: 'setsid',
  perl: `perl -e ${shellQuote('setpgrp(0, 0) or die "setpgrp: $!\n"; exec { $ARGV[0] } @ARGV or die "exec: $!\n"')}`,
  none: '',
};

/**
 * Shell code that runs the command in a new process group, waits for its shell to exit and
 * leaves `__fleet_rc` (its exit code) and `__fleet_pg` (the group id) set. The group leader
 * tells its pid through a pipe it closes before the command starts, so the command runs in
 * the foreground (an `&` job would ignore SIGINT) and nothing it leaves behind holds the pipe.
 */
export function runInGroup(spec: CommandSpec, runner: GroupRunner): string {
  const leader = `printf '%s\\n' "$$" >&3; exec 3>&-; ${commandBody(spec)}`;
  const run = `${RUNNER_PREFIX[runner]} /bin/sh -c ${shellQuote(leader)}`.trimStart();
  return `{ __fleet_pg=$(${run} 3>&1 1>&4 4>&- </dev/null); __fleet_rc=$?; } 4>&1`;
}

/**
 * Shell code that stops whatever the command left running in its group: SIGTERM, up to
 * `killGraceMs` for it to go, then SIGKILL. Sets `__fleet_clean` to `clean` once the group
 * is provably empty, `dirty` otherwise (no group runner, or survivors of SIGKILL).
 * Costs one `kill` builtin when the command left nothing behind.
 */
export function reapGroup(runner: GroupRunner, killGraceMs: number): string {
  if (runner === 'none') return '__fleet_clean=dirty';
  const ticks = Math.max(1, Math.ceil(killGraceMs / 50));
  // kill -0 counts zombies too (a container's init may never reap them); ps tells them apart.
  // A ps that lists nothing (missing, or without these options) leaves kill -0's answer.
  const alive = `kill -s 0 -- -"$__fleet_pg" 2>/dev/null && { ps -A -o pgid= -o stat= 2>/dev/null | awk -v g="$__fleet_pg" '$1 == g && $2 !~ /^Z/ { n++ } END { exit !(n > 0 || NR == 0) }'; }`;
  return [
    `__fleet_clean=clean; if [ -n "$__fleet_pg" ] && kill -s TERM -- -"$__fleet_pg" 2>/dev/null; then`,
    `__fleet_n=0; while [ "$__fleet_n" -lt ${ticks} ] && ${alive}; do sleep 0.05 2>/dev/null || __fleet_n=${ticks}; __fleet_n=$((__fleet_n + 1)); done;`,
    `if ${alive}; then kill -s KILL -- -"$__fleet_pg" 2>/dev/null; sleep 0.1 2>/dev/null; ! ${alive} || __fleet_clean=dirty; fi; fi`,
  ].join(' ');
}

/**
 * The text written to a long-lived shell for one command. The command runs in its own
 * process group with stdin from /dev/null, so it cannot read the driver's input or change
 * the state the next command sees; when its shell exits, what it left running is stopped
 * (a command ends when its shell does). Then the driver prints the marker with `$?` and
 * `clean`/`dirty` on stdout and the marker alone on stderr, each after a newline we strip again.
 */
export function frameCommand(spec: CommandSpec, marker: string, runner: GroupRunner = 'setsid', killGraceMs = 1000): string {
  return `${runInGroup(spec, runner)}; ${reapGroup(runner, killGraceMs)}; ${printMarkers(marker, '"$__fleet_rc" "$__fleet_clean"')}\n`;
}

/**
 * Shell code for a command on a channel of its own: picks the member's group runner, runs
 * the command in its own process group, stops what it left running, exits with its code.
 */
export function runAndReap(spec: CommandSpec, killGraceMs: number): string {
  const branch = (r: GroupRunner) => `${runInGroup(spec, r)}; ${reapGroup(r, killGraceMs)}`;
  return `if command -v setsid >/dev/null 2>&1; then ${branch('setsid')}; elif command -v perl >/dev/null 2>&1; then ${branch('perl')}; else ${branch('none')}; fi; exit "$__fleet_rc"`;
}

/** A command run straight in a subshell of the driver (for the driver's own start-up). */
export function framePlain(command: string, marker: string): string {
  return `( ${command}\n) </dev/null; __fleet_rc=$?; ${printMarkers(marker, '"$__fleet_rc" clean')}\n`;
}

function printMarkers(marker: string, trailer: string): string {
  return `printf '\\n%s %s %s\\n' '${marker}' ${trailer}; printf '\\n%s\\n' '${marker}' >&2`;
}

/**
 * Reads one stream of a framed command: passes the command's bytes on, stops at the marker
 * and (on stdout) reads the exit code that follows it. Chunk boundaries may split the marker.
 */
export class FrameScanner {
  done = false;
  /** What followed the marker on its line (the exit code on stdout). */
  trailer = '';
  private readonly needle: Buffer;
  private carry: Buffer = Buffer.alloc(0);
  private foundNeedle = false;

  constructor(
    marker: string,
    private readonly withTrailer: boolean,
    private readonly sink: (bytes: Buffer) => void,
    /** Told what is held back as maybe the marker's start (it always starts with a newline), so live output can end its line. */
    private readonly held?: (bytes: Buffer) => void,
  ) {
    this.needle = Buffer.from(withTrailer ? `\n${marker} ` : `\n${marker}\n`);
  }

  /** Feeds a chunk; returns true once the frame is complete. */
  push(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.foundNeedle) return this.readTrailer(chunk);
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const at = buf.indexOf(this.needle);
    if (at >= 0) {
      this.sink(buf.subarray(0, at));
      this.carry = Buffer.alloc(0);
      this.foundNeedle = true;
      if (!this.withTrailer) return (this.done = true);
      return this.readTrailer(buf.subarray(at + this.needle.length));
    }
    // Only the end that could start the marker is held back, so output is passed on as it comes.
    const keep = this.markerStartAtEnd(buf);
    this.sink(buf.subarray(0, buf.length - keep));
    this.carry = Buffer.from(buf.subarray(buf.length - keep));
    if (keep) this.held?.(this.carry);
    return false;
  }

  /** Length of the longest end of `buf` that is a beginning of the marker line (0 when none). */
  private markerStartAtEnd(buf: Buffer): number {
    for (let k = Math.min(buf.length, this.needle.length - 1); k > 0; k--) {
      if (buf[buf.length - k] === this.needle[0] && buf.subarray(buf.length - k).equals(this.needle.subarray(0, k))) return k;
    }
    return 0;
  }

  private readTrailer(chunk: Buffer): boolean {
    const text = chunk.toString('latin1');
    const nl = text.indexOf('\n');
    this.trailer += nl >= 0 ? text.slice(0, nl) : text;
    if (nl >= 0 || this.trailer.length > 64) this.done = true;
    return this.done;
  }
}
