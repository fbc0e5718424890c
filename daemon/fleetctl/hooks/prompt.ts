import type { HookContext, HookOutput } from './context.js';
import { unseenEventLines } from './events-since.js';

/** UserPromptSubmit: plain stdout is added to the model's context, so the new fleet events are printed as lines. */
export async function promptHook(ctx: HookContext): Promise<HookOutput> {
  const lines = await unseenEventLines(ctx);
  if (lines.length === 0) return undefined;
  return `Fleet events since your last turn:\n${lines.join('\n')}\n`;
}
