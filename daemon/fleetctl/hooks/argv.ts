/** The hooks fleetctl answers, by the name Claude Code's settings call them with. */
export const HOOK_NAMES = ['session-start', 'prompt', 'post-tool', 'stop'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** A `fleetctl hook <name>` command line, read without yargs. */
export interface HookInvocation {
  name: HookName;
  home?: string;
  url?: string;
  tokenFile?: string;
}

const VALUED = { '--home': 'home', '--url': 'url', '--token-file': 'tokenFile' } as const;

/**
 * Reads `[global options] hook <name> [global options]`; undefined for any other command
 * line (including `hook --help` or an unknown hook name), which the full CLI then handles.
 */
export function hookInvocation(args: string[]): HookInvocation | undefined {
  const opts: Partial<Record<'home' | 'url' | 'tokenFile', string>> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = (eq > 0 ? a.slice(0, eq) : a) as keyof typeof VALUED;
    if (flag in VALUED) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) return undefined;
      opts[VALUED[flag]] = value;
    } else if (a.startsWith('-')) {
      return undefined;
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2 || positional[0] !== 'hook' || !(HOOK_NAMES as readonly string[]).includes(positional[1]!)) return undefined;
  return { name: positional[1] as HookName, ...opts };
}
