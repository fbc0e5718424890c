import type { MemberView } from '../../../shared/protocol.js';
import type { HookContext, HookOutput } from './context.js';
import { getJson } from './daemon-http.js';

interface TaskRow {
  id: string;
  member: string;
  command: string;
  stalled?: boolean;
}
interface CredentialRow {
  name: string;
  state: string;
  timeLeftS?: number;
}

/** A credential whose TTL ends within this is reported as about to expire. */
const EXPIRING_WITHIN_S = 3600;
const NAMES_SHOWN = 5;

/** Up to five names, then "+N". */
function names(list: string[]): string {
  return list.length <= NAMES_SHOWN ? list.join(', ') : `${list.slice(0, NAMES_SHOWN).join(', ')} +${list.length - NAMES_SHOWN}`;
}

function minutes(s: number): string {
  return s >= 3600 ? `${Math.round(s / 3600)}h` : s >= 60 ? `${Math.round(s / 60)}m` : `${s}s`;
}

/**
 * SessionStart: a short fleet summary for the model (members, running and stalled tasks,
 * credentials waiting for entry or about to expire), and the session's cursor set to now,
 * so the hooks after it show only what happens from here on. A resumed or compacted session
 * keeps its cursor: what happened meanwhile is still news to it.
 */
export async function sessionStartHook(ctx: HookContext): Promise<HookOutput> {
  const get = <T>(path: string) => getJson<T>(ctx.endpoint, path, ctx.signal);
  const [events, members, tasks, credentials] = await Promise.allSettled([
    get<{ lastId: number }>('/events?limit=1'),
    get<{ members: MemberView[] }>('/members'),
    get<{ tasks: TaskRow[] }>('/tasks?state=running'),
    get<{ credentials: CredentialRow[] }>('/credentials'),
  ]);
  if (events.status === 'rejected') throw events.reason;
  const keep = (ctx.input.source === 'resume' || ctx.input.source === 'compact') && ctx.cursor.read() !== undefined;
  if (!keep) ctx.cursor.write(events.value.lastId);
  ctx.cursor.prune();

  const lines: string[] = [];
  if (members.status === 'fulfilled') {
    const all = members.value.members;
    const online = all.filter((m) => m.state === 'online').map((m) => m.name);
    const offline = all.filter((m) => m.state === 'offline').map((m) => m.name);
    const other = all.length - online.length - offline.length;
    if (all.length === 0) lines.push('- members: none registered (register_member adds one)');
    else lines.push(`- members: ${online.length} online${online.length ? ` (${names(online)})` : ''}, ${offline.length} offline${offline.length ? ` (${names(offline)})` : ''}${other ? `, ${other} connecting` : ''}`);
  }
  if (tasks.status === 'fulfilled' && tasks.value.tasks.length) {
    const running = tasks.value.tasks;
    const stalled = running.filter((t) => t.stalled).map((t) => `${t.id} on ${t.member}`);
    lines.push(`- tasks: ${running.length} running (${names(running.map((t) => `${t.id} on ${t.member}`))})${stalled.length ? `, ${stalled.length} stalled (${names(stalled)})` : ''}`);
  }
  if (credentials.status === 'fulfilled') {
    const all = credentials.value.credentials;
    const waiting = all.filter((c) => c.state === 'requested').map((c) => c.name);
    const expiring = all.filter((c) => c.state === 'stored' && c.timeLeftS !== undefined && c.timeLeftS <= EXPIRING_WITHIN_S).map((c) => `${c.name} in ${minutes(c.timeLeftS!)}`);
    if (waiting.length) lines.push(`- credentials waiting for the user to enter them: ${names(waiting)} (\`fleetctl secret set NAME\`)`);
    if (expiring.length) lines.push(`- credentials expiring soon: ${names(expiring)}`);
  }
  for (const r of [members, tasks, credentials]) if (r.status === 'rejected') ctx.log(`summary incomplete: ${(r.reason as Error).message}`);
  return `Fleet (fleetd) at session start:\n${lines.join('\n')}\nNew fleet events (tasks ending, members going offline, secrets stored, CI flips) will be shown to you after tool calls and prompts; call wait_for_events to wait for one.\n`;
}
