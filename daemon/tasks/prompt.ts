import { z } from 'zod';
import { shellQuote } from '../members/framing.js';
import type { TasksService } from './service.js';
import type { TaskView } from './views.js';

/**
 * execute_prompt: a member's agent CLI run as a background task. The default agent is Claude
 * Code in non-interactive mode with stream-json output (one JSON message per line: a
 * `system`/`init` line with the session id, `assistant`/`user` lines, and a last `result`
 * line with the final text, session id, turns and cost). The prompt goes to the agent on
 * stdin, from a file in the task's folder: never in an argument, so never in the process list.
 * The stall detector counts output bytes: stream-json writes each message as one line at
 * once, so new bytes are a new message (a partial line is one being written).
 */

/** Claude Code's flags for a non-interactive run that reports as stream-json. */
export const AGENT_FLAGS = ['-p', '--output-format', 'stream-json', '--verbose'];

/** The agent's final text kept in an event and in the task (the rest: monitor_task's output range). */
export const RESULT_CHARS = 2000;

/** Bytes of the end of stdout read for the result line (a long final text makes a long line). */
export const RESULT_TAIL_BYTES = 1024 * 1024;

/** Marker the command prints on stderr when `timeout` stopped the agent. */
const TIMEOUT_MARK = 'fleet: execute_prompt stopped the agent after timeout_s=';

const sessionId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'session ids are letters, digits, . _ : - (as task.completed reported it)');

/** execute_prompt's arguments. */
export const PromptShape = {
  member: z.string().min(1).max(63).describe('the member whose agent runs the prompt'),
  prompt: z.string().min(1).max(1024 * 1024).describe('the prompt; it reaches the agent on stdin, never on its command line'),
  cwd: z.string().min(1).max(4096).optional().describe('working directory on the member (default: the login directory; ~/ works)'),
  resume: sessionId.optional().describe('session id from an earlier execute_prompt (task.completed data.result.sessionId): continue that conversation'),
  model: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._:@\[\]\/-]+$/, 'model names are letters, digits and . _ : @ [ ] / -')
    .optional()
    .describe('model for the agent (--model)'),
  max_turns: z.number().int().min(1).max(10_000).optional().describe('stop the agent after this many turns (--max-turns)'),
  timeout_s: z.number().positive().max(7 * 86_400).optional().describe('stop the agent after this many seconds (then task.failed with reason "timeout")'),
  stall_after_s: z.number().min(1).max(86_400).optional().describe('task.stalled after this many seconds without a new stream-json message (default tasks.stallAfter, 150)'),
};
export const PromptInput = z.object(PromptShape).strict();
export type PromptInput = z.infer<typeof PromptInput>;

/** The agent command for a member: its own from config tasks.agent.members, else tasks.agent.command. */
export function agentFor(agent: AgentSettings, member: string): string {
  const own = Object.entries(agent.members).find(([name]) => name.toLowerCase() === member.toLowerCase());
  return own ? own[1] : agent.command;
}

/**
 * The shell command run as the task: the agent with its flags, under `timeout` when asked
 * (it gives the agent and its children a process group of their own and signals all of
 * it; stop_task reaches that group through the task's session), and a line on stderr when
 * the timeout hit so the end event can say so.
 */
export function promptCommand(agent: string, input: Pick<PromptInput, 'resume' | 'model' | 'max_turns' | 'timeout_s'>): string {
  const flags = [...AGENT_FLAGS];
  if (input.resume) flags.push('--resume', input.resume);
  if (input.model) flags.push('--model', input.model);
  if (input.max_turns !== undefined) flags.push('--max-turns', String(input.max_turns));
  const args = flags.map(shellQuote).join(' ');
  const run = `${agent} ${args}`;
  if (input.timeout_s === undefined) return run;
  const s = String(input.timeout_s);
  // The agent command is shell (it may set variables first): timeout runs it through sh -c.
  const timed = `timeout -k 10 ${s} /bin/sh -c ${shellQuote(`${agent} "$@"`)} fleet-agent ${args}`;
  return [
    `if command -v timeout >/dev/null 2>&1; then ${timed}; else echo 'fleet: no timeout command on this member: timeout_s is not applied' >&2; ${run}; fi`,
    `rc=$?; [ $rc -ne 124 ] || echo ${shellQuote(TIMEOUT_MARK + s)} >&2; exit $rc`,
  ].join('\n');
}

/** A short label for listings and events: the prompt's start, never all of it. */
export function promptLabel(prompt: string): string {
  const one = prompt.replace(/\s+/g, ' ').trim();
  return `prompt: ${one.length > 60 ? `${one.slice(0, 57)}...` : one}`;
}

/** What a prompt task's stream said about its end: the task's `result`. */
export interface PromptResult {
  result?: string;
  resultTruncated?: boolean;
  sessionId?: string;
  subtype?: string;
  isError?: boolean;
  turns?: number;
  costUsd?: number;
  agentDurationMs?: number;
  /** Messages the stream carried (one per line). */
  messages: number;
  errors?: string[];
  reason?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Reads Claude Code's stream-json (the end of stdout) and the stderr tail: the last `result`
 * message's text (capped), session id, turns, cost and error flag; without a result
 * message (killed, timed out, crashed), the session id any message carried, so the run can
 * still be resumed.
 */
export function parsePromptStream(stdout: string, stderr: string, exitCode: number | null): PromptResult {
  const out: PromptResult = { messages: 0 };
  let last: Record<string, unknown> | undefined;
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue; // the first line of a tail may be cut
    }
    out.messages++;
    const sid = str(msg.session_id);
    if (sid) out.sessionId = sid;
    if (msg.type === 'result') last = msg;
  }
  if (last) {
    const text = str(last.result);
    if (text !== undefined) {
      out.result = text.length > RESULT_CHARS ? `${text.slice(0, RESULT_CHARS)}…` : text;
      if (text.length > RESULT_CHARS) out.resultTruncated = true;
    }
    const subtype = str(last.subtype);
    if (subtype) out.subtype = subtype;
    if (typeof last.is_error === 'boolean') out.isError = last.is_error;
    const turns = num(last.num_turns);
    if (turns !== undefined) out.turns = turns;
    const cost = num(last.total_cost_usd) ?? num(last.cost_usd);
    if (cost !== undefined) out.costUsd = cost;
    const ms = num(last.duration_ms);
    if (ms !== undefined) out.agentDurationMs = ms;
    if (Array.isArray(last.errors)) out.errors = last.errors.map((e) => String(typeof e === 'string' ? e : JSON.stringify(e)).slice(0, 500)).slice(0, 10);
  } else if (exitCode !== null) {
    out.reason = 'no_result';
  }
  const mark = stderr.lastIndexOf(TIMEOUT_MARK);
  if (exitCode === 124 && mark >= 0) out.reason = `timeout: stopped after timeout_s=${stderr.slice(mark + TIMEOUT_MARK.length).split('\n')[0]}`;
  return out;
}

/** Agent settings (config.json tasks.agent). */
export interface AgentSettings {
  command: string;
  members: Record<string, string>;
}

/** Starts a prompt task: the member's agent, the prompt in the task's stdin file, a short label in listings and events. */
export function startPrompt(tasks: TasksService, agent: AgentSettings, input: PromptInput, session: string | undefined): Promise<TaskView> {
  const command = promptCommand(agentFor(agent, input.member), input);
  return tasks.start(
    { member: input.member, command, ...(input.cwd ? { cwd: input.cwd } : {}), ...(input.stall_after_s !== undefined ? { stall_after_s: input.stall_after_s } : {}) },
    session,
    { kind: 'prompt', stdin: input.prompt, label: promptLabel(input.prompt) },
  );
}
