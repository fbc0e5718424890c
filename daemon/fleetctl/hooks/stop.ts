import type { FleetEvent } from '../../../shared/events.js';
import { SseParser } from '../../../shared/sse-parser.js';
import { newestId, readAfter, type HookContext, type HookOutput } from './context.js';
import { getJson, getStream } from './daemon-http.js';
import { eventLines, matcherOf } from './format.js';

/** What keeps a stopping agent waiting: work in flight in the fleet. */
async function pendingWork(ctx: HookContext): Promise<string[]> {
  const [tasks, credentials] = await Promise.allSettled([
    getJson<{ tasks: { id: string }[] }>(ctx.endpoint, '/tasks?state=running', ctx.signal),
    getJson<{ credentials: { name: string; state: string }[] }>(ctx.endpoint, '/credentials', ctx.signal),
  ]);
  const out: string[] = [];
  if (tasks.status === 'fulfilled') out.push(...tasks.value.tasks.map((t) => `task ${t.id}`));
  if (credentials.status === 'fulfilled') out.push(...credentials.value.credentials.filter((c) => c.state === 'requested').map((c) => `credential ${c.name}`));
  return out;
}

/** Output tails of a task's end, which the agent would otherwise fetch with monitor_task. */
function tailLines(e: FleetEvent, max: number): string[] {
  const out: string[] = [];
  for (const key of ['stdoutTail', 'stderrTail'] as const) {
    const tail = e.data?.[key];
    if (typeof tail !== 'string' || tail === '') continue;
    const last = tail.split('\n').slice(-3).join(' ⏎ ');
    out.push(`    ${key === 'stdoutTail' ? 'stdout' : 'stderr'}: ${last.length > max ? `…${last.slice(-(max - 1))}` : last}`);
  }
  return out;
}

/**
 * Stop: when the fleet has work in flight (running tasks, credentials asked for and not yet
 * entered), waits up to hooks.stopWait for the next event that ends such a wait and answers
 * `{"decision": "block", "reason": ...}` with it, so the agent goes on exactly when something
 * happened. An event of that kind already waiting is answered at once; with nothing pending
 * and nothing new it answers nothing, at once. `stop_hook_active` (the agent is already
 * going on because of a Stop hook) is never blocked again, so it cannot loop.
 */
export async function stopHook(ctx: HookContext): Promise<HookOutput> {
  if (ctx.input.stop_hook_active) return undefined;
  const show = matcherOf(ctx.config.show);
  const ends = matcherOf(ctx.config.stop);
  const topics = [...new Set([...ctx.config.show.topics, ...ctx.config.stop.topics])];

  // Pending is asked before the log is read, so an end between the two is in what is read.
  const pending = await pendingWork(ctx);
  // A session the hooks have not seen yet (installed mid-session) starts from now.
  const after = ctx.cursor.read() ?? (await newestId(ctx));
  const page = await readAfter(ctx, after, topics);
  const seen = page.events.filter((e) => show(e) || ends(e));
  let trigger = seen.find(ends);

  if (!trigger && pending.length > 0 && ctx.config.stopWaitMs > 0) {
    ctx.log(`waiting up to ${ctx.config.stopWaitMs} ms for ${pending.slice(0, 5).join(', ')}${pending.length > 5 ? ` +${pending.length - 5}` : ''}`);
    trigger = await waitForEnd(ctx, Math.max(after, page.lastId), topics, (e) => {
      if (show(e) || ends(e)) seen.push(e);
      return ends(e);
    });
  }
  if (!trigger) return undefined;

  await ctx.cursor.lock(3000);
  try {
    if ((ctx.cursor.read() ?? 0) < trigger.id) ctx.cursor.write(trigger.id);
  } finally {
    ctx.cursor.unlock();
  }
  const upTo = seen.filter((e) => e.id <= trigger!.id);
  const lines = eventLines(upTo, { maxLines: ctx.config.maxLines, lineLength: ctx.config.lineLength });
  const at = lines.findIndex((l) => l.startsWith(`#${trigger!.id} `));
  if (at >= 0) lines.splice(at + 1, 0, ...tailLines(trigger, ctx.config.lineLength));
  const reason = `The fleet reported this while you were stopping:\n${lines.join('\n')}\nAct on it if it matters to your task (monitor_task shows a task's full output); otherwise you may stop.`;
  return `${JSON.stringify({ decision: 'block', reason })}\n`;
}

/** Follows GET /events (SSE) from `after` until `isEnd` says yes or the wait runs out (undefined). */
async function waitForEnd(ctx: HookContext, after: number, topics: string[], isEnd: (e: FleetEvent) => boolean): Promise<FleetEvent | undefined> {
  const done = new AbortController();
  const wait = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.config.stopWaitMs), done.signal]);
  const q = new URLSearchParams({ since: String(after), topic: topics.join(',') });
  const parser = new SseParser();
  try {
    for await (const chunk of getStream(ctx.endpoint, `/events?${q}`, wait)) {
      for (const msg of parser.push(chunk)) {
        if (!msg.data) continue;
        const e = JSON.parse(msg.data) as FleetEvent;
        if (isEnd(e)) return e;
      }
    }
    ctx.log('the event stream ended before anything came');
  } catch (e) {
    if (!wait.aborted) throw e;
    ctx.log(`nothing came within ${ctx.config.stopWaitMs} ms`);
  } finally {
    done.abort();
  }
  return undefined;
}
