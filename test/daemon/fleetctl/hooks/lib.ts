import { spawn } from 'node:child_process';
import { FLEETCTL } from '../../../helpers/fleetd.js';

export interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `fleetctl hook <name>` as Claude Code does: a process with the hook's JSON on stdin; killed (code null) after `killAfterMs`, as Claude Code would. */
export function runHook(name: string, input: Record<string, unknown> | string, env: Record<string, string>, args: string[] = [], killAfterMs = 60_000): Promise<HookRun> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [FLEETCTL, 'hook', name, ...args], { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    p.stdin.end(typeof input === 'string' ? input : JSON.stringify(input));
  });
}

/** The documented stdin of each Claude Code hook event, for one session. */
export function hookInput(event: 'SessionStart' | 'UserPromptSubmit' | 'PostToolUse' | 'Stop', sessionId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const common = { session_id: sessionId, transcript_path: `/tmp/${sessionId}.jsonl`, cwd: '/tmp', hook_event_name: event };
  const specific =
    event === 'SessionStart'
      ? { source: 'startup' }
      : event === 'UserPromptSubmit'
        ? { prompt: 'go on' }
        : event === 'PostToolUse'
          ? { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_response: { stdout: '', stderr: '' } }
          : { stop_hook_active: false };
  return { ...common, ...specific, ...extra };
}

/** The additionalContext of a PostToolUse answer ('' for no output). */
export function postToolContext(stdout: string): string {
  if (stdout === '') return '';
  const v = JSON.parse(stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
  if (v.hookSpecificOutput.hookEventName !== 'PostToolUse') throw new Error(`wrong hookEventName in ${stdout}`);
  return v.hookSpecificOutput.additionalContext;
}

/** Event ids named by hook output lines (`#12 topic ...`), in order. */
export function shownIds(text: string): number[] {
  return [...text.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
}
