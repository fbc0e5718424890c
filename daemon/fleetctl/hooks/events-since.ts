import type { HookContext } from './context.js';
import { newestId, readAfter } from './context.js';
import { eventLines, matcherOf } from './format.js';
import { withFacts, type ToolFacts } from './tool-result.js';

/**
 * The lines prompt and post-tool show: events since the session's cursor that the `hooks`
 * filter passes and the agent has not already read through fleet's tools, then the cursor
 * moves past everything read. `facts` (what a fleet tool call just told, from post-tool) are
 * recorded under the same lock first. A session with no cursor yet (its SessionStart hook did
 * not run) starts from now and is shown nothing.
 */
export async function unseenEventLines(ctx: HookContext, facts?: ToolFacts): Promise<string[]> {
  await ctx.cursor.lock(3000);
  try {
    let state = ctx.cursor.state();
    if (facts) ctx.cursor.save((state = withFacts(state, facts)));
    const after = state.after;
    if (after === undefined) {
      ctx.cursor.write(await newestId(ctx));
      return [];
    }
    const page = await readAfter(ctx, after, ctx.config.show.topics);
    const read = new Set(state.seen);
    const shown = page.events.filter((e) => !read.has(e.id)).filter(matcherOf(ctx.config.show));
    // Past every event up to the log's newest, shown or not: what a full page left out is named by "N more".
    const next = Math.max(after, page.lastId);
    if (next !== after) ctx.cursor.write(next);
    return eventLines(shown, { maxLines: ctx.config.maxLines, lineLength: ctx.config.lineLength, open: page.open });
  } finally {
    ctx.cursor.unlock();
  }
}
