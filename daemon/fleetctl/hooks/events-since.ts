import type { HookContext } from './context.js';
import { newestId, readAfter } from './context.js';
import { eventLines, matcherOf } from './format.js';

/**
 * The lines prompt and post-tool show: events since the session's cursor that the `hooks`
 * filter passes, then the cursor moves past everything read. A session with no cursor yet
 * (its SessionStart hook did not run) starts from now and is shown nothing.
 */
export async function unseenEventLines(ctx: HookContext): Promise<string[]> {
  await ctx.cursor.lock(3000);
  try {
    const after = ctx.cursor.read();
    if (after === undefined) {
      ctx.cursor.write(await newestId(ctx));
      return [];
    }
    const page = await readAfter(ctx, after, ctx.config.show.topics);
    const shown = page.events.filter(matcherOf(ctx.config.show));
    // Past every event up to the log's newest, shown or not: what a full page left out is named by "N more".
    const next = Math.max(after, page.lastId);
    if (next !== after) ctx.cursor.write(next);
    return eventLines(shown, { maxLines: ctx.config.maxLines, lineLength: ctx.config.lineLength, open: page.open });
  } finally {
    ctx.cursor.unlock();
  }
}
