import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveHome } from '../../../shared/home.js';
import { HOOK_NAMES, type HookName } from './argv.js';
import { DEFAULT_HOOKS_CONFIG, parseHooksConfig } from './config.js';
import { FLEET_HOOKS, readSettings, settingsPath, withFleetHooks, withoutFleetHooks, writeSettings, type Scope } from './settings.js';

type Global = { home?: string; url?: string; 'token-file'?: string };
type Run = (fn: () => Promise<void>) => Promise<void>;

/** `fleetctl hook <event>`: main.ts runs hooks before yargs loads; this entry gives them --help and catches odd command lines. */
export function hookCommand(): CommandModule<Global, Global & { event: HookName }> {
  return {
    command: 'hook <event>',
    describe: 'answer a Claude Code hook (reads its JSON on stdin); installed by `fleetctl hooks install`',
    builder: (y) => y.positional('event', { choices: HOOK_NAMES, demandOption: true }) as never,
    handler: async (argv) => (await import('./run.js')).runHook({ name: argv.event, home: argv.home, url: argv.url, tokenFile: argv['token-file'] }),
  };
}

/** Claude Code's Stop hook timeout: the configured wait plus room to start and answer. */
function stopTimeoutS(home: string): number {
  let wait = DEFAULT_HOOKS_CONFIG.stopWaitMs;
  try {
    wait = parseHooksConfig((JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { hooks?: unknown }).hooks).stopWaitMs;
  } catch {
    // no or broken config: fleetd reports that; the default wait applies
  }
  return Math.ceil(wait / 1000) + 10;
}

/** `fleetctl hooks install|uninstall [--scope user|project]`: fleet's hooks in Claude Code's settings.json, merged beside any others. */
export function hooksCommand(run: Run): CommandModule<Global, Global> {
  const scopeOpt = { choices: ['user', 'project'] as const, default: 'user' as const, describe: 'user: ~/.claude/settings.json (or CLAUDE_CONFIG_DIR); project: ./.claude/settings.json' };
  const out = (s: string) => process.stdout.write(`${s}\n`);
  return {
    command: 'hooks <command>',
    describe: 'install or remove the Claude Code hooks that show fleet events to the model',
    builder: (y) =>
      y
        .command(
          'install',
          'add fleet hooks (SessionStart, UserPromptSubmit, PostToolUse, Stop) to settings.json; other hooks stay',
          (c) => c.option('scope', scopeOpt).option('command', { type: 'string', requiresArg: true, default: 'fleetctl', describe: 'how Claude Code runs fleetctl, e.g. "node /path/to/dist/daemon/fleetctl/main.js"' }),
          (argv) =>
            run(async () => {
              const path = settingsPath(argv.scope as Scope);
              const home = resolveHome(argv.home);
              // A home given on this command line goes into the hooks, which run without it.
              const command = argv.home !== undefined ? `${argv.command} --home ${JSON.stringify(home)}` : argv.command;
              writeSettings(path, withFleetHooks(readSettings(path), { command, stopTimeoutS: stopTimeoutS(home) }));
              out(`installed fleet hooks (${FLEET_HOOKS.map((h) => h.event).join(', ')}) in ${path}`);
            }),
        )
        .command(
          'uninstall',
          'remove fleet hooks from settings.json, and nothing else',
          (c) => c.option('scope', scopeOpt),
          (argv) =>
            run(async () => {
              const path = settingsPath(argv.scope as Scope);
              const { settings, removed } = withoutFleetHooks(readSettings(path));
              if (removed) writeSettings(path, settings);
              out(removed ? `removed ${removed} fleet hook(s) from ${path}` : `no fleet hooks in ${path}`);
            }),
        )
        .demandCommand(1, 'name a command: install or uninstall'),
    handler: () => undefined,
  };
}
