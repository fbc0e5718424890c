import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, ROOT } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { liveProcesses, taskEvents, waitForTask } from './lib.js';

/** Claude Code's documented stream-json shapes, printed by a script (test/helpers/fake-claude.mjs). */
const FAKE = join(ROOT, 'test/helpers/fake-claude.mjs');

type Run = { argv: string[]; cwd: string; pid: number; promptBytes: number };
type PromptResult = { result?: string; resultTruncated?: boolean; sessionId?: string; turns?: number; costUsd?: number; isError?: boolean; subtype?: string; reason?: string; messages: number };

/** Waits (bounded) until `cond` holds: for state outside fleetd, such as a file the fake agent writes. */
async function until<T>(what: string, cond: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('execute_prompt on an sshd member (a fake Claude Code)', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let dir: string;
  let log: string;

  /** The fake agent's runs so far, as it recorded them. */
  const runs = (): Run[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run) : []);

  async function prompt(args: Record<string, unknown>): Promise<string> {
    const r = await mcp.call<{ task: { id: string; kind: string } }>('execute_prompt', { member: 'box', ...args });
    expect(r.task.kind).toBe('prompt');
    return r.task.id;
  }

  beforeAll(async () => {
    sshd = await Sshd.start();
    dir = mkdtempSync(join(tmpdir(), 'fleet-prompt-'));
    log = join(dir, 'runs.jsonl');
    // Polled every 200 ms so a 1 s stall shows within a second or so.
    const agent = { command: 'fleet-no-such-agent', members: { box: `FAKE_CLAUDE_LOG=${log} ${process.execPath} ${FAKE}` } };
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 0.2, stopGrace: 1, agent } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
    await mcp.call('register_member', { name: 'here', kind: 'local' });
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('task.completed carries the final text, session id, turns and cost; model and max_turns are flags; the prompt went on stdin', { timeout: 60_000 }, async () => {
    const text = 'hello there, agent\nsecond line';
    const id = await prompt({ prompt: text, model: 'opus', max_turns: 3, cwd: dir });
    const done = await waitForTask(mcp, id, 'task.completed');
    const result = (done.data as { result: PromptResult }).result;
    expect(result).toMatchObject({ result: 'answered: hello there, agent', turns: 1, costUsd: 0.0123, isError: false, subtype: 'success', messages: 3 });
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(done.data).toMatchObject({ exitCode: 0, stdoutTail: '', command: 'prompt: hello there, agent second line' });
    expect(done.session).toBe(mcp.sessionId);
    const run = runs().at(-1)!;
    expect(run.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--model', 'opus', '--max-turns', '3']);
    expect(run.promptBytes).toBe(Buffer.byteLength(text));
    expect(run.cwd).toBe(dir);
    const mode = await mcp.call<{ results: { stdout: string }[] }>('execute_command', { member: 'box', command: `stat -c %a .fleet/tasks/${id}/stdin` });
    expect(mode.results[0]!.stdout.trim()).toBe('600');
    const shown = await mcp.call<{ task: { state: string; kind: string; result: PromptResult } }>('monitor_task', { task_id: id });
    expect(shown.task).toMatchObject({ state: 'completed', kind: 'prompt', result: { result: 'answered: hello there, agent', sessionId: result.sessionId } });
  });

  it('resume passes the session id (--resume) and the run reports that session', { timeout: 60_000 }, async () => {
    const first = await prompt({ prompt: 'start a conversation' });
    const sid = ((await waitForTask(mcp, first, 'task.completed')).data as { result: PromptResult }).result.sessionId!;
    const second = await prompt({ prompt: 'carry on', resume: sid });
    const done = await waitForTask(mcp, second, 'task.completed');
    expect((done.data as { result: PromptResult }).result).toMatchObject({ result: 'resumed: carry on', sessionId: sid });
    expect(runs().at(-1)!.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--resume', sid]);
    const bad = await mcp.client.callTool({ name: 'execute_prompt', arguments: { member: 'box', prompt: 'x', resume: 'a b; rm -rf /' } });
    expect(bad.isError).toBe(true);
  });

  it('an agent gone quiet → one task.stalled; talking again → task.resumed; the prompt is never in the process list', { timeout: 60_000 }, async () => {
    const secret = `prompt-marker-${Date.now()}`;
    const talk = join(dir, 'talk');
    const finish = join(dir, 'finish');
    const id = await prompt({ prompt: `${secret}\nWAIT_FOR ${talk}\nTHEN_WAIT ${finish}`, stall_after_s: 1 });
    const stalled = await waitForTask(mcp, id, 'task.stalled');
    expect(stalled.data).toMatchObject({ stallAfterMs: 1000 });
    // While the agent runs: it is there, the prompt is not in any process's command line (ps on the member, and /proc here).
    const run = await until('the fake agent to start', () => runs().find((r) => r.promptBytes > secret.length && alive(r.pid)));
    const ps = await mcp.call<{ results: { stdout: string }[] }>('execute_command', { member: 'box', command: 'ps -eo args' });
    expect(ps.results[0]!.stdout).toContain('fake-claude');
    expect(ps.results[0]!.stdout).not.toContain(secret);
    expect(liveProcesses(secret)).toEqual([]);
    expect(alive(run.pid)).toBe(true);
    const running = await mcp.call<{ task: { state: string; progress: PromptResult } }>('monitor_task', { task_id: id });
    expect(running.task).toMatchObject({ state: 'running', progress: { messages: 2 } });
    expect(running.task.progress.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    writeFileSync(talk, '');
    await waitForTask(mcp, id, 'task.resumed');
    writeFileSync(finish, '');
    const done = await waitForTask(mcp, id, 'task.completed');
    expect((done.data as { result: PromptResult }).result).toMatchObject({ turns: 2, messages: 4 });
    expect(taskEvents(mcp, id).map((e) => e.topic)).toEqual(['task.started', 'task.stalled', 'task.resumed', 'task.completed']);
    // No event carries the prompt beyond its label's first 57 characters.
    for (const e of taskEvents(mcp, id)) expect(JSON.stringify(e)).not.toContain('THEN_WAIT');
  });

  it('timeout_s stops the agent: task.failed with reason timeout, the session id kept for resume, no agent process left', { timeout: 60_000 }, async () => {
    const id = await prompt({ prompt: 'take your time\nSLEEP 60', timeout_s: 1 });
    const failed = await waitForTask(mcp, id, 'task.failed', 30_000);
    expect(failed.data).toMatchObject({ exitCode: 124, reason: 'timeout: stopped after timeout_s=1' });
    expect(failed.message).toContain('timeout');
    const result = (failed.data as { result: PromptResult }).result;
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.result).toBeUndefined();
    const run = runs().find((r) => r.promptBytes === Buffer.byteLength('take your time\nSLEEP 60'))!;
    expect(alive(run.pid)).toBe(false);
  });

  it('stop_task stops an agent running under timeout (a process group of its own) and everything it started', { timeout: 60_000 }, async () => {
    const text = 'wait for the stop\nSLEEP 120';
    const id = await prompt({ prompt: text, timeout_s: 300 });
    await waitForTask(mcp, id, 'task.started');
    const run = await until('the fake agent to start', () => runs().find((r) => r.promptBytes === Buffer.byteLength(text) && alive(r.pid)));
    const stopped = await mcp.call<{ task: { state: string } }>('stop_task', { task_id: id });
    expect(stopped.task.state).toBe('cancelled');
    expect(alive(run.pid)).toBe(false);
    expect(liveProcesses(`timeout -k 10 300`)).toEqual([]);
  });

  it('an error result and a long final text: isError, task.failed, and the text capped at 2000 characters', { timeout: 60_000 }, async () => {
    const failing = await prompt({ prompt: 'break\nFAIL' });
    const failed = await waitForTask(mcp, failing, 'task.failed');
    expect(failed.data).toMatchObject({ exitCode: 1, result: { isError: true, subtype: 'error_during_execution', result: 'it went wrong' } });
    const long = await prompt({ prompt: 'say a lot\nLONG 5000' });
    const done = await waitForTask(mcp, long, 'task.completed');
    const result = (done.data as { result: PromptResult }).result;
    expect(result.resultTruncated).toBe(true);
    expect(result.result!.length).toBe(2001);
  });

  it('a member without its own agent command uses tasks.agent.command (here: not installed → task.failed, no result)', { timeout: 30_000 }, async () => {
    const r = await mcp.call<{ task: { id: string } }>('execute_prompt', { member: 'here', prompt: 'anyone there?' });
    const failed = await waitForTask(mcp, r.task.id, 'task.failed');
    expect(failed.data).toMatchObject({ exitCode: 127, result: { reason: 'no_result', messages: 0 } });
    expect(String((failed.data as { stderrTail: string }).stderrTail)).toContain('fleet-no-such-agent');
  });
});
