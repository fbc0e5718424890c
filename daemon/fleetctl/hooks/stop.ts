import type { FleetEvent } from '../../../shared/events.js';
import { SseParser } from '../../../shared/sse-parser.js';
import { newestId, readAfter, type HookContext, type HookOutput } from './context.js';
import { getJson, getStream } from './daemon-http.js';
import { eventLines, matcherOf } from './format.js';

/** This session's work still in flight: its recorded tasks still running, its credentials still not entered. */
interface Pending {
  tasks: Set<string>;
  credentials: Set<string>;
  labels: string[];
}

/**
 * What keeps this stopping agent waiting: only what it started or waits on (recorded by
 * post-tool from its own fleet tool calls), never another agent's work. Items that ended are
 * dropped from the session's record.
 */
async function pendingWork(ctx: HookContext): Promise<Pending> {
  const mine = ctx.cursor.state();
  const pending: Pending = { tasks: new Set(), credentials: new Set(), labels: [] };
  if (mine.tasks.length === 0 && mine.credentials.length === 0) return pending;
  const [tasks, credentials] = await Promise.allSettled([
    mine.tasks.length ? getJson<{ tasks: { id: string }[] }>(ctx.endpoint, '/tasks?state=running', ctx.signal) : Promise.resolve({ tasks: [] }),
    mine.credentials.length ? getJson<{ credentials: { name: string; state: string }[] }>(ctx.endpoint, '/credentials', ctx.signal) : Promise.resolve({ credentials: [] }),
  ]);
  const running = new Set(tasks.status === 'fulfilled' ? tasks.value.tasks.map((t) => t.id) : mine.tasks);
  const requested = new Set(credentials.status === 'fulfilled' ? credentials.value.credentials.filter((c) => c.state === 'requested').map((c) => c.name) : mine.credentials);
  for (const id of mine.tasks) if (running.has(id)) pending.tasks.add(id);
  for (const name of mine.credentials) if (requested.has(name)) pending.credentials.add(name);
  pending.labels = [...[...pending.tasks].map((t) => `task ${t}`), ...[...pending.credentials].map((c) => `credential ${c}`)];
  return pending;
}

/** The session's record without the work that has ended (kept as it was when a look failed). */
async function forgetEnded(ctx: HookContext, pending: Pending): Promise<void> {
  await ctx.cursor.lock(3000);
  try {
    const s = ctx.cursor.state();
    const tasks = s.tasks.filter((t) => pending.tasks.has(t));
    const credentials = s.credentials.filter((c) => pending.credentials.has(c));
    if (tasks.length !== s.tasks.length || credentials.length !== s.credentials.length) ctx.cursor.save({ ...s, tasks, credentials });
  } finally {
    ctx.cursor.unlock();
  }
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
 * Stop: when this agent has work in flight (tasks it started that still run, credentials it
 * asked for that are not yet entered; post-tool records them), waits up to hooks.stopWait for the next event that ends such a wait and answers
 * `{"decision": "block", "reason": ...}` with it, so the agent goes on exactly when something
 * happened. An event of that kind already waiting is answered at once; with nothing pending
 * and nothing new it answers nothing, at once. `stop_hook_active` (the agent is already
 * going on because of a Stop hook) is never blocked again, so it cannot loop.
 */
export async function stopHook(ctx: HookContext): Promise<HookOutput> {
  if (ctx.input.stop_hook_active) return undefined;
  const state = ctx.cursor.state();
  const read = new Set(state.seen);
  const show = matcherOf(ctx.config.show);
  const endTopic = matcherOf(ctx.config.stop);
  const mine = { tasks: new Set(state.tasks), credentials: new Set(state.credentials) };
  // An end concerns this agent when it is about its own task or credential; other topics (a member lost) concern everyone.
  const ends = (e: FleetEvent) => {
    if (read.has(e.id) || !endTopic(e)) return false;
    if (e.topic.startsWith('task.')) return mine.tasks.has(e.subject ?? '');
    if (e.topic.startsWith('credential.')) return mine.credentials.has(e.subject ?? '');
    return true;
  };
  const topics = [...new Set([...ctx.config.show.topics, ...ctx.config.stop.topics])];

  // Pending is asked before the log is read, so an end between the two is in what is read.
  const pending = await pendingWork(ctx);
  if (state.tasks.length + state.credentials.length > pending.labels.length) await forgetEnded(ctx, pending);
  // A session the hooks have not seen yet (installed mid-session) starts from now.
  const after = state.after ?? (await newestId(ctx));
  const page = await readAfter(ctx, after, topics);
  const seen = page.events.filter((e) => !read.has(e.id) && (show(e) || ends(e)));
  let trigger = seen.find(ends);

  if (!trigger && pending.labels.length > 0 && ctx.config.stopWaitMs > 0) {
    const labels = pending.labels;
    ctx.log(`waiting up to ${ctx.config.stopWaitMs} ms for ${labels.slice(0, 5).join(', ')}${labels.length > 5 ? ` +${labels.length - 5}` : ''}`);
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
