import type { HookContext, HookOutput } from './context.js';
import { unseenEventLines } from './events-since.js';

/** PostToolUse: the new fleet events as `hookSpecificOutput.additionalContext`, which Claude Code puts before the model. */
export async function postToolHook(ctx: HookContext): Promise<HookOutput> {
  const lines = await unseenEventLines(ctx);
  if (lines.length === 0) return undefined;
  const additionalContext = `Fleet events since your last look:\n${lines.join('\n')}`;
  return `${JSON.stringify({ hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext } })}\n`;
}
