/** A CI check's overall state as fleet reports it: still running, passed or failed. */
export type CiState = 'pending' | 'success' | 'failure';

/** One thing seen about a check on a branch, from a webhook delivery or a poll of GitHub's API. */
export interface CiObservation {
  /** owner/name */
  repo: string;
  branch: string;
  sha: string;
  /** The workflow name, check run name, check suite app or status context. */
  workflow: string;
  state: CiState;
  /** GitHub's own word (success, failure, cancelled, timed_out, error...), null while pending. */
  conclusion: string | null;
  url: string | null;
  /** When GitHub says it happened (ms), to drop a late delivery of an older state. */
  observedMs?: number;
}

// Conclusions that do not block a merge count as passing; everything else that finished failed.
const PASSING = new Set(['success', 'neutral', 'skipped']);

/** State of a check run, check suite or workflow run from its status and conclusion. */
export function stateOfRun(status: string | null | undefined, conclusion: string | null | undefined): CiState {
  if (status !== 'completed' || !conclusion) return 'pending';
  return PASSING.has(conclusion) ? 'success' : 'failure';
}

/** State of a commit status (success, failure, error, pending). */
export function stateOfStatus(state: string): CiState {
  return state === 'success' ? 'success' : state === 'pending' ? 'pending' : 'failure';
}

/** A time GitHub sent, in ms, or undefined. */
export function msOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** The one human line of a ci.status event. */
export function messageOf(o: CiObservation): string {
  const mark = o.state === 'success' ? '✓' : o.state === 'failure' ? '✗' : '…';
  const what = o.state === 'pending' ? 'pending' : o.conclusion ?? o.state;
  return `${mark} CI ${what}: ${o.repo}${o.branch ? ` ${o.branch}` : ''} · ${o.workflow}${o.sha ? ` (${o.sha.slice(0, 7)})` : ''}`;
}

/** GitHub's Actions app: its check runs and suites are the jobs of workflow runs, reported once as the workflow. */
export const ACTIONS_APP = 'github-actions';
