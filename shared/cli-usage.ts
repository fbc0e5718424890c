/** Exit code of fleetd, fleetctl and fleet-bridge for a bad command line (as sysexits' EX_USAGE is for BSD tools, 2 for GNU ones). */
export const USAGE_EXIT = 2;

/** A command line a tool cannot act on: its message names the flag and what it accepts. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** yargs' own validation texts, said the way the rest of fleet says things. */
function rephrase(msg: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^Unknown arguments?: (.*)$/s.exec(msg))) {
    // yargs names `--bogus` and `bogus` alike: say which the user typed.
    const typed = (a: string) => process.argv.slice(2).find((t) => t === `--${a}` || t.startsWith(`--${a}=`) || t === `-${a}`)?.split('=')[0];
    const names = m[1]!.split(', ').map((a) => typed(a) ?? a);
    return `unknown option or argument: ${names.join(', ')}`;
  }
  if ((m = /^Not enough arguments following: (.*)$/.exec(msg))) return `--${m[1]} needs a value`;
  if ((m = /^Missing required arguments?: (.*)$/.exec(msg))) return `missing ${m[1]!.split(', ').map((a) => `<${a}>`).join(' ')}`;
  if ((m = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(msg))) return `--${m[1]} ${m[2]!.trim()} is not one of ${m[3]!.trim()}`;
  if ((m = /^Not enough non-option arguments: got \d+, need at least \d+$/.exec(msg))) return 'missing arguments';
  if ((m = /^Too many non-option arguments: got \d+, maximum of \d+$/.exec(msg))) return 'too many arguments';
  return msg;
}

/**
 * A yargs `.fail()` handler: one line naming the problem (never yargs' help dump or a stack),
 * a pointer to --help, and exit code 2. Errors that are not about the command line go on.
 */
export function failUsage(tool: string, helpHint = `${tool} --help`) {
  return (msg: string | undefined | null, err: Error | undefined): never => {
    if (err && !(err instanceof UsageError) && !msg) throw err;
    const text = rephrase(msg || err?.message || 'bad command line');
    process.stderr.write(`${tool}: ${text}\n(see ${helpHint})\n`);
    process.exit(USAGE_EXIT);
  };
}

/** A TCP port from the command line: a whole number in [min, 65535], or a UsageError naming the flag. */
export function portArg(flag: string, raw: unknown, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min || n > 65535) throw new UsageError(`${flag} must be a port number ${min}-65535, not "${s.slice(0, 40)}"`);
  return n;
}
