import { z } from 'zod';
import { ACTIONS_APP, msOf, stateOfRun, stateOfStatus, type CiObservation } from './observation.js';

// Only the fields fleet reads are checked; GitHub sends many more, which are let through.
const Repository = z.object({ full_name: z.string().min(3).max(200), html_url: z.string().max(2000).optional() });
const App = z.object({ slug: z.string().max(200).optional(), name: z.string().max(200).optional() }).nullish();
const Str = z.string().max(2000);

export const CheckRun = z.object({
  name: Str,
  head_sha: Str,
  status: Str,
  conclusion: Str.nullish(),
  html_url: Str.nullish(),
  details_url: Str.nullish(),
  started_at: Str.nullish(),
  completed_at: Str.nullish(),
  app: App,
  check_suite: z.object({ head_branch: Str.nullish() }).nullish(),
});

const CheckSuite = z.object({
  head_branch: Str.nullish(),
  head_sha: Str,
  status: Str.nullish(),
  conclusion: Str.nullish(),
  updated_at: Str.nullish(),
  app: App,
});

export const WorkflowRun = z.object({
  name: Str.nullish(),
  head_branch: Str.nullish(),
  head_sha: Str,
  status: Str.nullish(),
  conclusion: Str.nullish(),
  html_url: Str.nullish(),
  updated_at: Str.nullish(),
  path: Str.nullish(),
});

/** The events fleet reads and the shape each must have. */
export const WEBHOOK_SCHEMAS = {
  check_run: z.object({ action: Str, check_run: CheckRun, repository: Repository }),
  check_suite: z.object({ action: Str, check_suite: CheckSuite, repository: Repository }),
  workflow_run: z.object({ action: Str, workflow_run: WorkflowRun, repository: Repository }),
  status: z.object({
    sha: Str,
    state: z.enum(['pending', 'success', 'failure', 'error']),
    context: Str,
    target_url: Str.nullish(),
    updated_at: Str.nullish(),
    branches: z.array(z.object({ name: Str, commit: z.object({ sha: Str }).nullish() })).max(1000),
    repository: Repository,
  }),
} as const;

export type WebhookEvent = keyof typeof WEBHOOK_SCHEMAS;

export function isWebhookEvent(name: string): name is WebhookEvent {
  return Object.hasOwn(WEBHOOK_SCHEMAS, name);
}

/** A check run as a webhook or GET .../check-runs has it. */
export function checkRunObservation(repo: string, branch: string, run: z.infer<typeof CheckRun>): CiObservation | undefined {
  if (run.app?.slug === ACTIONS_APP) return undefined; // reported as its workflow run
  const observedMs = msOf(run.completed_at) ?? msOf(run.started_at);
  return { repo, branch, sha: run.head_sha, workflow: run.name, state: stateOfRun(run.status, run.conclusion), conclusion: run.conclusion ?? null, url: run.html_url ?? run.details_url ?? null, ...(observedMs ? { observedMs } : {}) };
}

/** A workflow run as a webhook or GET .../actions/runs has it. */
export function workflowRunObservation(repo: string, run: z.infer<typeof WorkflowRun>, branch = run.head_branch ?? ''): CiObservation {
  const observedMs = msOf(run.updated_at);
  const workflow = run.name ?? run.path ?? 'workflow';
  return { repo, branch, sha: run.head_sha, workflow, state: stateOfRun(run.status, run.conclusion), conclusion: run.conclusion ?? null, url: run.html_url ?? null, ...(observedMs ? { observedMs } : {}) };
}

/** What one delivery says, as observations (a status names every branch whose head it is on). */
export function observationsOf(event: WebhookEvent, payload: unknown): CiObservation[] {
  switch (event) {
    case 'check_run': {
      const p = WEBHOOK_SCHEMAS.check_run.parse(payload);
      const o = checkRunObservation(p.repository.full_name, p.check_run.check_suite?.head_branch ?? '', p.check_run);
      return o ? [o] : [];
    }
    case 'check_suite': {
      const p = WEBHOOK_SCHEMAS.check_suite.parse(payload);
      const s = p.check_suite;
      if (s.app?.slug === ACTIONS_APP) return [];
      const observedMs = msOf(s.updated_at);
      const url = p.repository.html_url ? `${p.repository.html_url}/commit/${s.head_sha}/checks` : null;
      return [{ repo: p.repository.full_name, branch: s.head_branch ?? '', sha: s.head_sha, workflow: s.app?.name ?? s.app?.slug ?? 'check suite', state: stateOfRun(s.status, s.conclusion), conclusion: s.conclusion ?? null, url, ...(observedMs ? { observedMs } : {}) }];
    }
    case 'workflow_run': {
      const p = WEBHOOK_SCHEMAS.workflow_run.parse(payload);
      return [workflowRunObservation(p.repository.full_name, p.workflow_run)];
    }
    case 'status': {
      const p = WEBHOOK_SCHEMAS.status.parse(payload);
      const observedMs = msOf(p.updated_at);
      const branches = p.branches.filter((b) => !b.commit || b.commit.sha === p.sha).slice(0, 20).map((b) => b.name);
      return (branches.length ? branches : ['']).map((branch) => ({
        repo: p.repository.full_name,
        branch,
        sha: p.sha,
        workflow: p.context,
        state: stateOfStatus(p.state),
        conclusion: p.state === 'pending' ? null : p.state,
        url: p.target_url ?? null,
        ...(observedMs ? { observedMs } : {}),
      }));
    }
  }
}
