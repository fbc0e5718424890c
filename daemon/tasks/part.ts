import type { FleetPart, PartDeps } from '../context.js';
import { fanOut } from '../members/fanout.js';
import { taskTools } from '../tools/tasks.js';
import { taskRoutes } from './routes.js';
import { TasksService, type TaskSettings } from './service.js';

declare module '../services.js' {
  interface FleetServices {
    /** Background tasks on members: start, monitor, stop, forget. */
    tasks: TasksService;
  }
}

/** Reads config.tasks (durations are already milliseconds). */
function taskSettings(c: PartDeps['ctx']['config']['tasks']): TaskSettings {
  return { root: c.root, pollMs: Math.max(100, c.poll), stallAfterMs: c.stallAfter, tailBytes: c.tailBytes, stopGraceMs: c.stopGrace, retentionMs: c.retention };
}

/** The tasks feature: detached commands on members, told when they end, across restarts. */
export function tasksPart({ ctx, services }: PartDeps): FleetPart {
  const members = services.get('members');
  const service = new TasksService(ctx, members, taskSettings(ctx.config.tasks));
  members.background = (input, session) =>
    fanOut(members.targets(input), async (member) => {
      const t = await service.start(
        { member, command: input.command, ...(input.cwd ? { cwd: input.cwd } : {}), ...(input.env ? { env: input.env } : {}), ...(input.stall_after_s ? { stall_after_s: input.stall_after_s } : {}) },
        session,
        { expand: (text) => members.expandSecrets(text, member) },
      );
      return { ...t };
    });
  return {
    name: 'tasks',
    provides: { tasks: service },
    instructions:
      'Tasks: execute_command with background: true starts work that outlives the call, execute_prompt runs a member\'s agent CLI (Claude Code) on a prompt the same way (its end event carries the final text and a session id to resume); task.started, task.completed / task.failed (exit code, output tail), task.cancelled, task.stalled / task.resumed arrive as events to the session that started it, so there is no need to poll. ' +
      'monitor_task shows a task\'s state and output, list_tasks lists them, stop_task stops one (its whole process tree), forget_task removes a finished one\'s files.',
    statelessInstructions:
      'Tasks: execute_command with background: true starts work that outlives the call, execute_prompt runs a member\'s agent CLI (Claude Code) on a prompt the same way (its end event carries the final text and a session id to resume). ' +
      'Its events (task.started, task.completed / task.failed with exit code and output tail, task.cancelled, task.stalled / task.resumed) are the resource fleet://events/task/<id>: listen on it instead of polling; a client that declares the tasks extension gets a task back and notifications/tasks. ' +
      'monitor_task shows a task\'s state and output, list_tasks lists them, stop_task stops one (its whole process tree), forget_task removes a finished one\'s files.',
    status: () => ({ tasks: service.summary() }),
    tools: (server, _ctx, caller) => taskTools(server, service, ctx.config.tasks.agent, caller),
    routes: (app) => {
      app.route('/tasks', taskRoutes(service));
    },
    stop: () => {
      members.background = undefined;
      service.stop_();
    },
  };
}
