/**
 * Webhook payloads in the shapes GitHub documents ("Webhook events and payloads":
 * workflow_run, check_run, check_suite, status), trimmed to a realistic subset of fields.
 */
const repository = { id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', name: 'app', full_name: 'octo-org/app', private: false, owner: { login: 'octo-org', id: 1, type: 'Organization' }, html_url: 'https://github.com/octo-org/app', default_branch: 'main' };
const sender = { login: 'octocat', id: 1, type: 'User' };

export function workflowRunPayload(o: { sha: string; status: 'queued' | 'in_progress' | 'completed'; conclusion: string | null; name?: string; branch?: string; updatedAt?: string; id?: number }) {
  const id = o.id ?? 30433642;
  return {
    action: o.status === 'completed' ? 'completed' : o.status === 'queued' ? 'requested' : 'in_progress',
    workflow_run: {
      id,
      name: o.name ?? 'CI',
      node_id: 'WFR_1',
      head_branch: o.branch ?? 'main',
      head_sha: o.sha,
      path: '.github/workflows/ci.yml',
      run_number: 562,
      event: 'push',
      status: o.status,
      conclusion: o.conclusion,
      workflow_id: 159038,
      url: `https://api.github.com/repos/octo-org/app/actions/runs/${id}`,
      html_url: `https://github.com/octo-org/app/actions/runs/${id}`,
      created_at: '2026-03-01T10:00:00Z',
      updated_at: o.updatedAt ?? new Date().toISOString(),
      run_attempt: 1,
      head_commit: { id: o.sha, message: 'Fix the build', author: { name: 'Mona', email: 'mona@example.com' } },
    },
    workflow: { id: 159038, name: o.name ?? 'CI', path: '.github/workflows/ci.yml', state: 'active' },
    repository,
    sender,
  };
}

export function checkRunPayload(o: { sha: string; status: 'queued' | 'in_progress' | 'completed'; conclusion: string | null; name?: string; app?: string; branch?: string }) {
  const slug = o.app ?? 'octo-lint';
  return {
    action: o.status === 'completed' ? 'completed' : 'created',
    check_run: {
      id: 128620228,
      name: o.name ?? 'lint',
      node_id: 'MDg6Q2hlY2tSdW4xMjg2MjAyMjg=',
      head_sha: o.sha,
      external_id: '',
      url: 'https://api.github.com/repos/octo-org/app/check-runs/128620228',
      html_url: 'https://github.com/octo-org/app/runs/128620228',
      details_url: 'https://octo-lint.example.com/runs/1',
      status: o.status,
      conclusion: o.conclusion,
      started_at: '2026-03-01T10:00:00Z',
      completed_at: o.status === 'completed' ? new Date().toISOString() : null,
      output: { title: null, summary: null, text: null, annotations_count: 0 },
      check_suite: { id: 118578147, head_branch: o.branch ?? 'main', head_sha: o.sha, status: o.status, conclusion: o.conclusion },
      app: { id: 29310, slug, name: slug === 'github-actions' ? 'GitHub Actions' : 'Octo Lint', owner: { login: 'octo-org' } },
      pull_requests: [],
    },
    repository,
    sender,
  };
}

export function statusPayload(o: { sha: string; state: 'pending' | 'success' | 'failure' | 'error'; context?: string; updatedAt?: string; branch?: string }) {
  return {
    id: 214015194,
    sha: o.sha,
    name: 'octo-org/app',
    target_url: 'https://ci.example.com/build/1',
    context: o.context ?? 'ci/deploy-preview',
    description: 'The build',
    state: o.state,
    commit: { sha: o.sha, commit: { message: 'Fix the build' } },
    branches: [{ name: o.branch ?? 'main', commit: { sha: o.sha, url: `https://api.github.com/repos/octo-org/app/commits/${o.sha}` }, protected: false }],
    created_at: '2026-03-01T10:00:00Z',
    updated_at: o.updatedAt ?? new Date().toISOString(),
    repository,
    sender,
  };
}
