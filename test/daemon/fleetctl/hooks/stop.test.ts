import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../../../helpers/fleetd.js';
import { McpTestClient } from '../../../helpers/mcp.js';
import { secretSetPiped } from '../../../credentials/helpers.js';
import { startTask, waitForTask } from '../../../tasks/lib.js';
import { hookInput, runHook } from './lib.js';

/** The stand-in for Claude Code's CLI that execute_prompt runs (Claude Code's stream-json shapes). */
const FAKE_AGENT = `${process.execPath} ${join(dirname(fileURLToPath(import.meta.url)), '../../../helpers/fake-claude.mjs')}`;
const TASKS = { poll: 1, agent: { command: 'claude', members: { here: FAKE_AGENT } } };

describe('fleetctl hook stop against a real fleetd with a local member', () => {
  let d: FleetdProcess;
  let mcp: McpTestClient;
  let env: Record<string, string>;
  const setStopWait = (s: number) => writeFileSync(join(d.home, 'config.json'), JSON.stringify({ tasks: TASKS, hooks: { stopWait: s } }));
  const stop = (session: string, extra: Record<string, unknown> = {}) => runHook('stop', hookInput('Stop', session, extra), env);
  /** Calls a fleet tool as the agent of `session` and runs its PostToolUse hook with the real result, as Claude Code does. */
  const toolAs = async (session: string, tool: string, args: Record<string, unknown>) => {
    const r = await mcp.raw(tool, args);
    if (r.isError) throw new Error(JSON.stringify(r.content));
    await runHook('post-tool', hookInput('PostToolUse', session, { tool_name: `mcp__fleet__${tool}`, tool_input: args, tool_response: r.content }), env);
    return r.structuredContent as Record<string, unknown>;
  };
  /** Starts a background task as the agent of `session` (recorded by its post-tool hook); returns the task id. */
  const startMine = async (session: string, command: string) => ((await toolAs(session, 'execute_command', { member: 'here', command, background: true })).results as { id: string }[])[0]!.id;

  beforeAll(async () => {
    d = await new FleetdProcess({ config: { tasks: TASKS, hooks: { stopWait: 40 } } }).start();
    env = { FLEET_HOME: d.home };
    mcp = await McpTestClient.connect(d);
    await mcp.call('register_member', { name: 'here', kind: 'local' });
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await d?.dispose();
  });

  it('nothing pending: answers at once, with nothing', async () => {
    await runHook('session-start', hookInput('SessionStart', 'idle'), env);
    const r = await stop('idle');
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.ms).toBeLessThan(5000);
  });

  it('a running background task: blocks until it ends and returns its completion (with output) as the reason', async () => {
    await runHook('session-start', hookInput('SessionStart', 'worker'), env);
    const id = await startMine('worker', 'sleep 3; echo finished-marker');
    const t0 = Date.now();
    const r = await stop('worker');
    const waited = Date.now() - t0;
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(answer.decision).toBe('block');
    expect(answer.reason).toMatch(new RegExp(`#\\d+ task\\.completed \\(${id}\\): ✓ task ${id} on here completed`));
    expect(answer.reason).toContain('stdout: finished-marker');
    // It waited for the end (the task had about 3 s to go), and the task really has ended.
    expect(waited).toBeGreaterThan(1500);
    const shown = (await (await d.fetch(`/tasks/${id}`)).json()) as { task: { state: string } };
    expect(shown.task.state).toBe('completed');
    // Told once: a later Stop with nothing pending answers nothing.
    expect((await stop('worker')).stdout).toBe('');
  });

  it('a prompt this agent gave another agent (execute_prompt) holds its Stop until the result arrives', async () => {
    await runHook('session-start', hookInput('SessionStart', 'delegator'), env);
    const go = join(d.home, 'prompt-go');
    const started = await toolAs('delegator', 'execute_prompt', { member: 'here', prompt: `summarise the logs\nWAIT_FOR ${go}` });
    const id = (started.task as { id: string }).id;
    // The agent answers only once the file exists: a Stop that did not wait would answer nothing.
    const answer = stop('delegator');
    writeFileSync(go, '');
    const r = await answer;
    const body = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(body.decision).toBe('block');
    expect(body.reason).toContain(`task.completed (${id})`);
  });

  it('an end that came before the Stop is answered at once', async () => {
    await runHook('session-start', hookInput('SessionStart', 'late'), env);
    // It ends once the test says so: after its post-tool hook ran, so the end is news to the Stop.
    const go = join(d.home, 'late-go');
    const id = await startMine('late', `while [ ! -e ${go} ]; do sleep 0.05; done; exit 4`);
    writeFileSync(go, '');
    await waitForTask(mcp, id, 'task.failed');
    const r = await stop('late');
    expect(r.ms).toBeLessThan(5000);
    const answer = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(answer).toMatchObject({ decision: 'block' });
    expect(answer.reason).toContain(`task.failed (${id})`);
  });

  it('stop_hook_active: true never blocks again, even with a task running', async () => {
    await runHook('session-start', hookInput('SessionStart', 'looping'), env);
    const id = await startMine('looping', 'sleep 30');
    try {
      const r = await stop('looping', { stop_hook_active: true });
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeLessThan(5000);
    } finally {
      await mcp.call('stop_task', { task_id: id });
    }
  });

  it('hooks.stopWait bounds the wait: nothing happening means no block, exit 0', async () => {
    await runHook('session-start', hookInput('SessionStart', 'patient'), env);
    const id = await startMine('patient', 'sleep 30');
    setStopWait(1);
    try {
      const r = await stop('patient');
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeGreaterThan(900);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      setStopWait(40);
      await mcp.call('stop_task', { task_id: id });
    }
  });

  it("another agent's work does not hold this one: its running task and its requested credential, nor its task's end", async () => {
    await runHook('session-start', hookInput('SessionStart', 'bystander'), env);
    const other = await startTask(mcp, 'here', 'sleep 30');
    await mcp.call('credential_store_set', { name: 'someone_elses' });
    try {
      const r = await stop('bystander');
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeLessThan(5000);
      // Its end is not this agent's news for Stop either.
      await mcp.call('stop_task', { task_id: other });
      await waitForTask(mcp, other, /task\.(cancelled|failed|completed)/);
      const after = await stop('bystander');
      expect(after).toMatchObject({ code: 0, stdout: '' });
      expect(after.ms).toBeLessThan(5000);
    } finally {
      await mcp.call('stop_task', { task_id: other }).catch(() => undefined);
      await mcp.call('credential_store_delete', { name: 'someone_elses' });
    }
  });

  it('the same fleet, two agents: only the one whose post-tool recorded the task is held by it', async () => {
    await runHook('session-start', hookInput('SessionStart', 'owner'), env);
    await runHook('session-start', hookInput('SessionStart', 'neighbour'), env);
    const id = await startMine('owner', 'sleep 2; echo owner-done');
    const neighbour = await stop('neighbour');
    expect(neighbour).toMatchObject({ code: 0, stdout: '' });
    const owner = JSON.parse((await stop('owner')).stdout) as { decision: string; reason: string };
    expect(owner.decision).toBe('block');
    expect(owner.reason).toContain(`task.completed (${id})`);
    // The ended task leaves the record: the next Stop answers at once.
    expect((await stop('owner')).stdout).toBe('');
    expect(JSON.parse(readFileSync(join(d.home, 'hooks', 'cursors', 'owner.json'), 'utf8')).tasks).toEqual([]);
  });

  it('a credential this agent asked for holds its Stop until the user enters it', async () => {
    await runHook('session-start', hookInput('SessionStart', 'asker'), env);
    await toolAs('asker', 'credential_store_set', { name: 'asked_token', description: 'for the test' });
    const stopping = stop('asker');
    const stored = await secretSetPiped(d.home, 'asked_token', 'hunter2-value\n');
    expect(stored.code).toBe(0);
    const r = await stopping;
    const answer = JSON.parse(r.stdout) as { decision: string; reason: string };
    expect(answer.decision).toBe('block');
    expect(answer.reason).toContain('credential.stored (asked_token)');
    expect(answer.reason).not.toContain('hunter2');
    await mcp.call('credential_store_delete', { name: 'asked_token' });
  });
});
