import { z } from 'zod';
import { ApiPaused, type GitHubApi } from './github-api.js';
import { stateOfStatus, msOf, type CiObservation } from './observation.js';
import { CheckRun, WorkflowRun, checkRunObservation, workflowRunObservation } from './payloads.js';
import type { CiWatch } from './store.js';

const RepoBody = z.object({ default_branch: z.string().min(1).max(255) });
const RunsBody = z.object({ workflow_runs: z.array(WorkflowRun).max(1000) });
const ChecksBody = z.object({ check_runs: z.array(CheckRun).max(1000) });
const StatusBody = z.object({
  sha: z.string().max(200),
  statuses: z.array(z.object({ state: z.enum(['pending', 'success', 'failure', 'error']), context: z.string().max(2000), target_url: z.string().max(2000).nullish(), updated_at: z.string().max(100).nullish() })).max(1000),
});

/** What a watch's last poll found, kept in memory for list_ci_watches. */
export interface PollOutcome {
  branch?: string;
  lastPollAt?: string;
  lastError?: string;
}

const enc = encodeURIComponent;

/** Reads one source; a 404 (Actions off, no such ref yet) means "nothing there", other failures are errors. */
async function read<T>(api: GitHubApi, path: string, schema: z.ZodType<T>, errors: string[]): Promise<T | undefined> {
  const a = await api.get(path);
  if (a.status === 404) return undefined;
  if (a.status < 200 || a.status >= 300) {
    const message = (a.body as { message?: unknown } | undefined)?.message;
    errors.push(`GET ${path} answered ${a.status}${typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''}`);
    return undefined;
  }
  const parsed = schema.safeParse(a.body);
  if (!parsed.success) {
    errors.push(`GET ${path}: the answer does not have GitHub's documented shape`);
    return undefined;
  }
  return parsed.data;
}

/** Keeps the first (newest) item per name: GitHub lists runs newest first. */
function newestPer<T extends CiObservation>(items: T[]): T[] {
  const seen = new Map<string, T>();
  for (const o of items) if (!seen.has(o.workflow)) seen.set(o.workflow, o);
  return [...seen.values()];
}

/**
 * One poll of one watch: workflow runs on the branch, check runs and the combined status of
 * its head, as observations (Actions' own check runs are left to their workflow run).
 */
export async function pollWatch(api: GitHubApi, watch: CiWatch, known: PollOutcome): Promise<{ observations: CiObservation[]; errors: string[]; branch?: string }> {
  const [owner, name] = watch.repo.split('/') as [string, string];
  const base = `/repos/${enc(owner)}/${enc(name)}`;
  const errors: string[] = [];
  let branch = watch.branch ?? known.branch;
  if (!branch) {
    const repo = await read(api, base, RepoBody, errors);
    if (!repo) return { observations: [], errors: errors.length ? errors : [`GET ${base} answered 404: no such repository, or the token cannot see it`] };
    branch = repo.default_branch;
  }
  const observations: CiObservation[] = [];
  const runs = await read(api, `${base}/actions/runs?branch=${enc(branch)}&per_page=50`, RunsBody, errors);
  if (runs) observations.push(...newestPer(runs.workflow_runs.map((r) => workflowRunObservation(watch.repo, r, branch))));
  const checks = await read(api, `${base}/commits/${enc(branch)}/check-runs?per_page=100`, ChecksBody, errors);
  if (checks) observations.push(...newestPer(checks.check_runs.flatMap((r) => checkRunObservation(watch.repo, branch, r) ?? [])));
  const status = await read(api, `${base}/commits/${enc(branch)}/status`, StatusBody, errors);
  if (status) {
    for (const s of status.statuses) {
      const observedMs = msOf(s.updated_at);
      observations.push({ repo: watch.repo, branch, sha: status.sha, workflow: s.context, state: stateOfStatus(s.state), conclusion: s.state === 'pending' ? null : s.state, url: s.target_url ?? null, ...(observedMs ? { observedMs } : {}) });
    }
  }
  const wanted = watch.workflow?.toLowerCase();
  return { observations: wanted ? observations.filter((o) => o.workflow.toLowerCase() === wanted) : observations, errors, branch };
}

export { ApiPaused };
