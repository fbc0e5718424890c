import { join } from 'node:path';
import { readRegularFile, resolveHome } from '../../../shared/home.js';
import type { HookInvocation, HookName } from './argv.js';
import { DEFAULT_HOOKS_CONFIG, parseHooksConfig, type HooksConfig } from './config.js';
import type { HookContext, HookOutput } from './context.js';
import { SessionCursor } from './cursor.js';
import { findDaemon } from './daemon-http.js';
import { hookLog } from './log.js';
import { readHookInput } from './stdin.js';

/** Each hook's module, loaded alone: every module costs a hook start-up time. */
const HOOKS: Record<HookName, () => Promise<(ctx: HookContext) => Promise<HookOutput>>> = {
  'session-start': async () => (await import('./session-start.js')).sessionStartHook,
  prompt: async () => (await import('./prompt.js')).promptHook,
  'post-tool': async () => (await import('./post-tool.js')).postToolHook,
  stop: async () => (await import('./stop.js')).stopHook,
};

/** How long a hook other than Stop may take before it gives up silently (Claude Code's own timeout is longer). */
const QUICK_BUDGET_MS = 8000;
/** Stop's budget beyond its configured wait. */
const STOP_SLACK_MS = 5000;

/** The `hooks` section of config.json; a broken file means the defaults, with a log line. */
function hooksConfig(home: string, log: (l: string) => void): HooksConfig {
  let raw: unknown;
  try {
    // A FIFO there must not block the hook before its time budget even starts.
    raw = JSON.parse(readRegularFile(join(home, 'config.json'), 4 * 1024 * 1024));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`config.json unreadable, using the defaults: ${(e as Error).message}`);
    return DEFAULT_HOOKS_CONFIG;
  }
  try {
    return parseHooksConfig((raw as { hooks?: unknown } | null)?.hooks);
  } catch (e) {
    log(`config.json: ${(e as Error).message}; using the defaults`);
    return DEFAULT_HOOKS_CONFIG;
  }
}

/** Ends the process with `out` (if any) on stdout and exit code 0, whatever happened. */
function finish(out: HookOutput): void {
  process.exitCode = 0;
  if (out) process.stdout.write(out, () => process.exit(0));
  else process.exit(0);
}

/**
 * Runs one Claude Code hook. It never breaks the user's turn: a daemon that is down, stdin
 * that is not the documented JSON, an error or the time running out all end in no output and
 * exit 0, with a line in FLEET_HOME/logs/hooks.log saying why.
 */
export async function runHook(inv: HookInvocation): Promise<void> {
  const home = resolveHome(inv.home);
  let session = '-';
  const log = (line: string) => hookLog(home, `${inv.name} session=${session}`, line);
  const config = hooksConfig(home, log);
  const budget = inv.name === 'stop' ? config.stopWaitMs + STOP_SLACK_MS : QUICK_BUDGET_MS;
  const giveUp = new AbortController();
  setTimeout(() => {
    log(`gave up after ${budget} ms`);
    giveUp.abort();
    finish(undefined);
  }, budget);
  try {
    const input = await readHookInput(2000);
    session = input.session_id.slice(0, 80);
    const endpoint = findDaemon(home, { url: inv.url, tokenFile: inv.tokenFile });
    if (typeof endpoint === 'string') {
      log(endpoint);
      return finish(undefined);
    }
    const hook = await HOOKS[inv.name]();
    const out = await hook({ input, endpoint, config, cursor: new SessionCursor(home, input.session_id), log, signal: giveUp.signal });
    finish(out);
  } catch (e) {
    if (!giveUp.signal.aborted) log((e as Error).message ?? String(e));
    finish(undefined);
  }
}
