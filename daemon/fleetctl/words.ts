import { parseSince } from '../../shared/events.js';
import { UsageError } from '../../shared/cli-usage.js';

/** The daemon's tool and REST vocabulary, and what fleetctl calls the same thing. */
const CLI_WORDS: [RegExp, string][] = [
  [/\badd_member\b/g, '`fleetctl members add`'],
  [/\bupdate_member\b/g, '`fleetctl members update`'],
  [/\bremove_member\b/g, '`fleetctl members remove`'],
  [/\blist_members\b/g, '`fleetctl members list`'],
  [/\blist_events\b/g, '`fleetctl events`'],
  [/\bpublish_event\b/g, '`fleetctl publish`'],
  [/\buse kind "local"/g, 'use --local'],
  [/\bkind "local"/g, '--local'],
  [/\bidentity_file\b/g, '--identity-file'],
  [/\buse_agent\b/g, '--agent'],
  [/\bpassword_credential\b/g, '--password-credential'],
  [/\bpassphrase_credential\b/g, '--passphrase-credential'],
  [/\baccept_new_host_key\b/g, '--accept-new-host-key'],
  [/\bsince=(\S+?)(?=[\s,;.)]|$)/g, '--since $1'],
  [/\bbad since\b/g, 'bad --since'],
  [/\bbad limit\b/g, 'bad --limit'],
];

/** Rephrases a message from the daemon in fleetctl's own flags and commands. */
export function cliWords(message: string): string {
  return CLI_WORDS.reduce((m, [re, to]) => m.replace(re, to), message);
}

/** The most events one `fleetctl events` prints: what one page of GET /events allows. */
export const MAX_LIMIT = 10_000;

/** `--limit`: a whole number from 1 to MAX_LIMIT. */
export function limitArg(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > MAX_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, not "${s.slice(0, 40)}"`);
  return Number(s);
}

/** `--since`, checked before any request so the message speaks of the flag. */
export function sinceArg(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    parseSince(raw);
    return raw;
  } catch {
    throw new UsageError(
      `--since "${raw.slice(0, 40)}" is not accepted: give an event id (events after it, e.g. 42), an ISO time with a zone (e.g. 2026-01-02T03:04:05Z) or how long ago as a duration (90s, 10m, 2h, 7d; no minus sign)`,
    );
  }
}
