import type { FleetEvent } from '../../shared/events.js';
import type { CredentialsService } from '../credentials/service.js';
import { FleetError } from '../errors.js';
import type { FleetContext } from '../fleet-context.js';
import { GitHubApi } from './github-api.js';
import type { CiObservation } from './observation.js';
import { ApiPaused, pollWatch, type PollOutcome } from './poller.js';
import { CiReporter } from './reporter.js';
import { CiStore, type CiWatch, type KnownState } from './store.js';

const REPO = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;

/** A watch as list_ci_watches shows it: what is polled, how the last poll went, the states known. */
export interface CiWatchView extends CiWatch {
  lastPollAt?: string;
  lastError?: string;
  states: Omit<KnownState, 'repo' | 'observedMs'>[];
}

/**
 * CI as one service: the webhook's secret, GitHub polling for watched repos, and the reporter
 * both ways in share, so a flip is one ci.status whichever way it came.
 */
export class CiService {
  readonly store: CiStore;
  readonly api: GitHubApi;
  private readonly reporter: CiReporter;
  private readonly outcomes = new Map<string, PollOutcome>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: FleetContext,
    private readonly credentials: CredentialsService,
  ) {
    const c = ctx.config.ci;
    this.store = new CiStore(ctx.db, c.deliveryMemory);
    this.reporter = new CiReporter(this.store, ctx.log);
    this.api = new GitHubApi(c.apiUrl, () => this.token());
  }

  /** The webhook secret from the vault; without one, deliveries are refused. */
  webhookSecret(): string {
    const name = this.ctx.config.ci.webhookSecretCredential;
    if (!this.credentials.vault.get(name)?.storedAt) {
      throw new FleetError('webhook_not_configured', `no webhook secret is stored yet: run \`fleetctl ci setup\` (it stores one as the credential ${name})`, 503);
    }
    return this.credentials.vault.reveal(name);
  }

  /** The API token from the vault, when one is stored (public repos can be polled without). */
  private token(): string | undefined {
    const name = this.ctx.config.ci.tokenCredential;
    return this.credentials.vault.get(name)?.storedAt ? this.credentials.vault.reveal(name) : undefined;
  }

  /** Records observations in order; resolves with the ci.status events they caused. */
  async recordAll(observations: CiObservation[]): Promise<FleetEvent[]> {
    const events: FleetEvent[] = [];
    for (const o of observations) {
      const e = await this.reporter.record(o);
      if (e) events.push(e);
    }
    return events;
  }

  /** watch_ci: starts polling a repo (its default branch unless one is named); polls at once. */
  watch(input: { repo: string; branch?: string; workflow?: string }): CiWatchView {
    const { repo, branch, workflow } = checkWatch(input);
    if (!this.store.getWatch(repo, branch, workflow) && this.store.watches().length >= this.ctx.config.ci.maxWatches) {
      throw new FleetError('bad_repo', `already ${this.ctx.config.ci.maxWatches} CI watches (config ci.maxWatches): remove one with unwatch_ci first`);
    }
    this.store.addWatch(repo, branch, workflow);
    this.kick();
    return this.view(this.store.getWatch(repo, branch, workflow)!);
  }

  /** unwatch_ci: stops polling; known states stay for the webhook and a later watch. */
  unwatch(input: { repo: string; branch?: string; workflow?: string }): { removed: CiWatch } {
    const { repo, branch, workflow } = checkWatch(input);
    const w = this.store.getWatch(repo, branch, workflow);
    if (!w || !this.store.removeWatch(repo, branch, workflow)) {
      const known = this.store.watches().map((x) => [x.repo, x.branch, x.workflow].filter(Boolean).join(' '));
      throw new FleetError('unknown_ci_watch', `no CI watch on ${[repo, branch, workflow].filter(Boolean).join(' ')}; watches: ${known.length ? known.join(', ') : 'none'}`, 404);
    }
    this.outcomes.delete(keyOf(w));
    return { removed: w };
  }

  list(): CiWatchView[] {
    return this.store.watches().map((w) => this.view(w));
  }

  private view(w: CiWatch): CiWatchView {
    const o = this.outcomes.get(keyOf(w)) ?? {};
    const branch = w.branch ?? o.branch;
    const states = branch ? this.store.states(w.repo, branch).filter((s) => !w.workflow || s.workflow.toLowerCase() === w.workflow.toLowerCase()) : [];
    return { ...w, ...(o.lastPollAt ? { lastPollAt: o.lastPollAt } : {}), ...(o.lastError ? { lastError: o.lastError } : {}), states: states.map(({ repo: _r, observedMs: _o, ...s }) => s) };
  }

  /** Starts the poll loop: one round now (a flip while fleetd was down is reported), then every interval. */
  start(): void {
    this.kick();
  }

  /** Polls now (after the current round), then every interval. */
  private kick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.round(), 0);
  }

  private async round(): Promise<void> {
    if (this.polling) {
      await this.polling;
      return this.kick();
    }
    this.polling = this.pollAll().finally(() => (this.polling = undefined));
    await this.polling;
    if (!this.stopped) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.round(), this.ctx.config.ci.pollInterval);
    }
  }

  private async pollAll(): Promise<void> {
    for (const w of this.store.watches()) {
      if (this.stopped) return;
      const key = keyOf(w);
      const outcome = this.outcomes.get(key) ?? {};
      try {
        const r = await pollWatch(this.api, w, outcome);
        if (this.stopped || !this.store.getWatch(w.repo, w.branch, w.workflow)) continue;
        await this.recordAll(r.observations);
        this.outcomes.set(key, { ...(r.branch ? { branch: r.branch } : {}), lastPollAt: new Date().toISOString(), ...(r.errors.length ? { lastError: r.errors.join('; ') } : {}) });
      } catch (e) {
        const why = e instanceof ApiPaused ? `${e.message} (Retry-After or rate limit)` : `poll failed: ${(e as Error).message}`;
        this.outcomes.set(key, { ...outcome, lastError: why });
        if (e instanceof ApiPaused) return; // the whole API is paused: the next round tries again
      }
    }
  }

  /** Counts for GET /status. */
  summary(): Record<string, unknown> {
    return { watches: this.store.watches().length, api: { ...this.api.stats }, deliveriesRemembered: this.store.deliveriesRemembered() };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
  }
}

const keyOf = (w: CiWatch) => `${w.repo.toLowerCase()}\n${w.branch ?? ''}\n${w.workflow ?? ''}`;

/** Checks a watch's arguments: owner/name, and a branch and workflow of sane length. */
function checkWatch(input: { repo: string; branch?: string; workflow?: string }): { repo: string; branch: string; workflow: string } {
  const repo = input.repo.trim().replace(/^https:\/\/github\.com\//, '').replace(/\.git$/, '');
  if (!REPO.test(repo)) throw new FleetError('bad_repo', `repo "${input.repo.slice(0, 100)}" is not owner/name, e.g. octo-org/octo-repo`);
  const branch = (input.branch ?? '').trim();
  const workflow = (input.workflow ?? '').trim();
  if (branch.length > 255 || /[\s~^:?*[\\]/.test(branch)) throw new FleetError('bad_repo', `branch "${branch.slice(0, 100)}" is not a git branch name`);
  if (workflow.length > 200) throw new FleetError('bad_repo', 'workflow is over 200 characters: give the workflow, check run or status context name');
  return { repo, branch, workflow };
}
