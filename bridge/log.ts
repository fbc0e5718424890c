/**
 * Diagnostics on stderr (stdout belongs to JSON-RPC alone): errors and warnings always,
 * the play-by-play of connections and sessions only with --verbose.
 */
export class Log {
  constructor(private readonly verbose: boolean) {}

  /** A problem the user must know about (always printed). */
  error(message: string): void {
    process.stderr.write(`fleet-bridge: ${message}\n`);
  }

  /** Something unusual the bridge recovered from (always printed). */
  warn(message: string): void {
    process.stderr.write(`fleet-bridge: warning: ${message}\n`);
  }

  /** Connection and session detail (only with --verbose). */
  debug(message: string): void {
    if (this.verbose) process.stderr.write(`fleet-bridge: ${message}\n`);
  }

  get isVerbose(): boolean {
    return this.verbose;
  }
}
