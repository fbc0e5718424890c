import type { ToolRegistry } from '../mcp/tool-registry.js';
import { z } from 'zod';
import type { CiService } from '../ci/service.js';
import { guarded, ok } from './result.js';

const Target = {
  repo: z.string().min(3).max(300).describe('GitHub repository, owner/name'),
  branch: z.string().min(1).max(255).optional().describe("branch to follow (default: the repository's default branch)"),
  workflow: z.string().min(1).max(200).optional().describe('only this workflow, check run name or status context (default: all of them)'),
};

/** MCP tools for CI: watch_ci, unwatch_ci, list_ci_watches. */
export function ciTools(server: ToolRegistry, service: CiService): void {
  server.registerTool(
    'watch_ci',
    {
      title: 'Watch CI',
      description:
        "Follows a repository's CI through GitHub's API (no public URL needed): workflow runs, check runs and commit statuses of a branch. " +
        'Each flip (pending to a conclusion, success to failure, failure to success) of a (repo, branch, workflow) arrives once as a ci.status event; repeats never do. Survives restarts.',
      inputSchema: Target,
    },
    (args) =>
      guarded(() => {
        const watch = service.watch(args);
        return ok(`Watching CI of ${watch.repo}${watch.branch ? ` ${watch.branch}` : ''}${watch.workflow ? ` (${watch.workflow})` : ''}; flips arrive as ci.status events (wait_for_events topics ["ci.*"]).`, { watch });
      }),
  );
  server.registerTool(
    'unwatch_ci',
    { title: 'Stop watching CI', description: 'Stops polling a repository that watch_ci follows (same repo, branch and workflow as given there).', inputSchema: Target },
    (args) => guarded(() => ok(`Stopped watching ${args.repo}.`, service.unwatch(args))),
  );
  server.registerTool(
    'list_ci_watches',
    { title: 'List CI watches', description: 'Repositories watch_ci follows, when each was last polled, any error, and the CI state known for each workflow.', inputSchema: {} },
    () =>
      guarded(() => {
        const watches = service.list();
        const lines = watches.map((w) => `${w.repo}${w.branch ? ` ${w.branch}` : ''}${w.workflow ? ` (${w.workflow})` : ''}: ${w.states.map((s) => `${s.workflow} ${s.state}`).join(', ') || 'no state yet'}${w.lastError ? ` [${w.lastError}]` : ''}`);
        return ok(watches.length ? `${watches.length} CI watch(es):\n${lines.join('\n')}` : 'No CI watches.', { watches });
      }),
  );
}
