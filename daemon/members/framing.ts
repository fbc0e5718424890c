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
 * The text written to a long-lived shell for one command. The command runs in a subshell
 * with stdin from /dev/null, so it cannot read the driver's input or change the state the
 * next command sees; afterwards the driver prints the marker with `$?` on stdout and the
 * marker alone on stderr, each after a newline we strip again.
 */
export function frameCommand(spec: CommandSpec, marker: string): string {
  return `( ${commandBody(spec)}\n) </dev/null; __fleet_rc=$?; printf '\\n%s %s\\n' '${marker}' "$__fleet_rc"; printf '\\n%s\\n' '${marker}' >&2\n`;
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
    const keep = Math.min(buf.length, this.needle.length - 1);
    this.sink(buf.subarray(0, buf.length - keep));
    this.carry = Buffer.from(buf.subarray(buf.length - keep));
    return false;
  }

  private readTrailer(chunk: Buffer): boolean {
    const text = chunk.toString('latin1');
    const nl = text.indexOf('\n');
    this.trailer += nl >= 0 ? text.slice(0, nl) : text;
    if (nl >= 0 || this.trailer.length > 64) this.done = true;
    return this.done;
  }
}
