import type { HookContext, HookOutput } from './context.js';
import { unseenEventLines } from './events-since.js';
import { toolFacts } from './tool-result.js';

/**
 * PostToolUse: records what a fleet tool call tells about the session (tasks it started,
 * credentials it asked for, events it read with wait_for_events or list_events, which are then
 * not shown again), and returns the new fleet events as `hookSpecificOutput.additionalContext`,
 * which Claude Code puts before the model.
 */
export async function postToolHook(ctx: HookContext): Promise<HookOutput> {
  const lines = await unseenEventLines(ctx, toolFacts(ctx.input));
  if (lines.length === 0) return undefined;
  const additionalContext = `Fleet events since your last look:\n${lines.join('\n')}`;
  return `${JSON.stringify({ hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext } })}\n`;
}
