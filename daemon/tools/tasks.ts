import type { ToolRegistry } from '../mcp/tool-registry.js';
import { z } from 'zod';
import type { ToolCaller } from '../context.js';
import { PromptShape, startPrompt, type AgentSettings } from '../tasks/prompt.js';
import type { TasksService } from '../tasks/service.js';
import { guarded, ok } from './result.js';

const TaskId = z.string().min(1).max(64).describe('task id, as execute_command with background: true or execute_prompt returned it (t-...)');

/** MCP tools for background tasks: execute_prompt, monitor_task, list_tasks, stop_task, forget_task. */
export function taskTools(server: ToolRegistry, service: TasksService, agent: AgentSettings, caller?: ToolCaller): void {
  server.registerTool(
    'execute_prompt',
    {
      title: 'Run a prompt with a member\'s agent',
      description:
        'Runs the member\'s agent CLI (default: Claude Code, `claude -p --output-format stream-json --verbose`) on a prompt as a background task and returns its task id at once. ' +
        'The prompt reaches the agent on stdin, never on its command line. task.completed / task.failed follows as an event with data.result: the final text (first 2000 characters), sessionId (pass it as resume to continue the conversation), turns, costUsd, isError. ' +
        'task.stalled when no new stream message came for stall_after_s (default 150), task.resumed when they come again. model and max_turns become --model and --max-turns; timeout_s stops the agent.',
      inputSchema: PromptShape,
    },
    (args) =>
      guarded(async () => {
        const task = await startPrompt(service, agent, args, caller?.sessionId);
        return ok(`Task ${task.id} started on ${task.member}: the agent runs the prompt; task.completed or task.failed follows as an event with its result.`, { task });
      }),
  );

  server.registerTool(
    'monitor_task',
    {
      title: 'A task now',
      description:
        'One background task: state (running, completed, failed, cancelled), exit code, duration, and the tail of its stdout/stderr, or a byte range of one stream (stream, offset, length: output.text, and output.nextOffset to read on from). ' +
        'When its member is unreachable its state is "unreachable", with since when (unreachableSince) and the last known state. Its end arrives as an event anyway: no need to call this in a loop.',
      inputSchema: {
        task_id: TaskId,
        stream: z.enum(['stdout', 'stderr']).optional().describe('read a byte range of this stream instead of the tails'),
        offset: z.number().int().nonnegative().optional(),
        length: z.number().int().positive().max(1024 * 1024).optional(),
      },
    },
    (args) =>
      guarded(async () => {
        const range = args.stream ? { stream: args.stream, offset: args.offset ?? 0, length: args.length ?? 65536 } : undefined;
        const task = await service.monitor(args.task_id, range);
        if (task.reachable === false) return ok(`Task ${args.task_id}: ${String(task.note)} (last known state: ${String(task.lastKnownState)}).`, { task });
        return ok(`Task ${args.task_id} on ${String(task.member)}: ${String(task.state)}${task.exitCode !== null && task.exitCode !== undefined ? ` (exit ${String(task.exitCode)})` : ''}.`, { task });
      }),
  );

  server.registerTool(
    'list_tasks',
    {
      title: 'List tasks',
      description: 'Background tasks, newest first, optionally of one member and/or in one state (starting, running, completed, failed, cancelled).',
      inputSchema: { member: z.string().min(1).max(63).optional(), state: z.enum(['starting', 'running', 'completed', 'failed', 'cancelled']).optional() },
    },
    (args) =>
      guarded(() => {
        const tasks = service.list(args);
        const lines = tasks.slice(0, 50).map((t) => `${t.id} ${t.member} ${t.state}${t.exitCode !== null ? ` exit ${t.exitCode}` : ''}: ${t.command.slice(0, 60)}`);
        return ok(tasks.length ? `${tasks.length} task(s):\n${lines.join('\n')}` : 'No tasks.', { tasks });
      }),
  );

  server.registerTool(
    'stop_task',
    {
      title: 'Stop a task',
      description: 'Stops a running task: SIGTERM to its whole process group on the member, SIGKILL after a grace period, and confirms none is left; then task.cancelled. A task that already ended is left as it is.',
      inputSchema: { task_id: TaskId },
    },
    (args) => guarded(async () => {
      const task = await service.stop(args.task_id);
      return ok(`Task ${task.id}: ${task.state}.`, { task });
    }),
  );

  server.registerTool(
    'forget_task',
    { title: 'Forget a task', description: 'Removes a finished task\'s folder (its output files) on its member and drops it from list_tasks.', inputSchema: { task_id: TaskId } },
    (args) => guarded(async () => ok(`Task ${args.task_id} forgotten.`, await service.forget(args.task_id))),
  );
}
