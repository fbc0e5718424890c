import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Claude Code's hook events fleet uses, with the `fleetctl hook` that answers each. */
export const FLEET_HOOKS = [
  { event: 'SessionStart', hook: 'session-start' },
  { event: 'UserPromptSubmit', hook: 'prompt' },
  { event: 'PostToolUse', hook: 'post-tool', matcher: '*' },
  { event: 'Stop', hook: 'stop' },
] as const;

export type Scope = 'user' | 'project';

interface CommandHook {
  type: string;
  command?: string;
  timeout?: number;
  [k: string]: unknown;
}
interface MatcherGroup {
  matcher?: string;
  hooks?: CommandHook[];
  [k: string]: unknown;
}
type Settings = Record<string, unknown> & { hooks?: Record<string, MatcherGroup[]> };

/** Where Claude Code reads settings for a scope: ~/.claude (or CLAUDE_CONFIG_DIR) for the user, ./.claude for the project. */
export function settingsPath(scope: Scope, cwd = process.cwd()): string {
  if (scope === 'project') return join(resolve(cwd), '.claude', 'settings.json');
  return join(process.env.CLAUDE_CONFIG_DIR ? resolve(process.env.CLAUDE_CONFIG_DIR) : join(homedir(), '.claude'), 'settings.json');
}

/** True for a hook command fleet installed: `... fleetctl ... hook <one of ours>`. */
export function isFleetCommand(command: unknown): boolean {
  return typeof command === 'string' && /fleetctl/.test(command) && /\shook\s+(session-start|prompt|post-tool|stop)(\s|$)/.test(command);
}

/** Settings with every fleet hook removed and everything else as it was (empty groups and events dropped). */
export function withoutFleetHooks(settings: Settings): { settings: Settings; removed: number } {
  if (!settings.hooks || typeof settings.hooks !== 'object') return { settings, removed: 0 };
  let removed = 0;
  const hooks: Record<string, MatcherGroup[]> = {};
  for (const [event, groups] of Object.entries(settings.hooks)) {
    if (!Array.isArray(groups)) {
      hooks[event] = groups;
      continue;
    }
    const kept: MatcherGroup[] = [];
    for (const g of groups) {
      if (!g || !Array.isArray(g.hooks)) {
        kept.push(g);
        continue;
      }
      const left = g.hooks.filter((h) => !isFleetCommand(h?.command));
      removed += g.hooks.length - left.length;
      if (left.length === g.hooks.length) kept.push(g);
      else if (left.length) kept.push({ ...g, hooks: left });
    }
    if (kept.length) hooks[event] = kept;
  }
  const out: Settings = { ...settings, hooks };
  if (Object.keys(hooks).length === 0) delete out.hooks;
  return { settings: out, removed };
}

/** Settings with fleet's four hooks (replacing any fleet hooks already there), other hooks untouched. */
export function withFleetHooks(settings: Settings, opts: { command: string; stopTimeoutS: number }): Settings {
  const base = withoutFleetHooks(settings).settings;
  const hooks: Record<string, MatcherGroup[]> = { ...(base.hooks ?? {}) };
  for (const h of FLEET_HOOKS) {
    const entry: CommandHook = { type: 'command', command: `${opts.command} hook ${h.hook}`, timeout: h.hook === 'stop' ? opts.stopTimeoutS : 10 };
    const group: MatcherGroup = 'matcher' in h ? { matcher: h.matcher, hooks: [entry] } : { hooks: [entry] };
    hooks[h.event] = [...(Array.isArray(hooks[h.event]) ? hooks[h.event]! : []), group];
  }
  return { ...base, hooks };
}

/** Reads a settings file ({} when absent); anything but a JSON object is an error naming the file. */
export function readSettings(path: string): Settings {
  if (!existsSync(path)) return {};
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); fix it by hand first, it was left as it is`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path} does not hold a JSON object; it was left as it is`);
  return v as Settings;
}

/** Writes a settings file atomically, keeping its mode (new files 0644 in a new .claude folder). */
export function writeSettings(path: string, settings: Settings): void {
  mkdirSync(dirname(path), { recursive: true });
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : 0o644;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
