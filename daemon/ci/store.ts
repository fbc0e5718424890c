import type Database from 'better-sqlite3';
import type { CiObservation, CiState } from './observation.js';

/** A repo (and optionally one branch and one workflow) polled through GitHub's API. */
export interface CiWatch {
  repo: string;
  branch?: string;
  workflow?: string;
  createdAt: string;
}

/** The last state fleet knows for one (repo, branch, workflow). */
export interface KnownState {
  repo: string;
  branch: string;
  workflow: string;
  state: CiState;
  conclusion: string | null;
  sha: string | null;
  url: string | null;
  observedMs: number | null;
  updatedAt: string;
}

interface WatchRow {
  repo: string;
  branch: string;
  workflow: string;
  created_at: string;
}

interface StateRow {
  repo: string;
  branch: string;
  workflow: string;
  state: CiState;
  conclusion: string | null;
  sha: string | null;
  url: string | null;
  observed_ms: number | null;
  updated_at: string;
}

const toWatch = (r: WatchRow): CiWatch => ({ repo: r.repo, ...(r.branch ? { branch: r.branch } : {}), ...(r.workflow ? { workflow: r.workflow } : {}), createdAt: r.created_at });

/** CI's tables in fleet.db: watches, known states, and the delivery ids already handled. */
export class CiStore {
  constructor(
    private readonly db: Database.Database,
    private readonly deliveryMemory: number,
  ) {}

  watches(): CiWatch[] {
    return (this.db.prepare('SELECT * FROM ci_watches ORDER BY repo, branch, workflow').all() as WatchRow[]).map(toWatch);
  }

  getWatch(repo: string, branch = '', workflow = ''): CiWatch | undefined {
    const r = this.db.prepare('SELECT * FROM ci_watches WHERE repo = ? AND branch = ? AND workflow = ?').get(repo, branch, workflow) as WatchRow | undefined;
    return r && toWatch(r);
  }

  /** Adds a watch; true when it is new. */
  addWatch(repo: string, branch = '', workflow = ''): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO ci_watches (repo, branch, workflow, created_at) VALUES (?, ?, ?, ?)').run(repo, branch, workflow, new Date().toISOString()).changes === 1;
  }

  /** Removes a watch; true when there was one. */
  removeWatch(repo: string, branch = '', workflow = ''): boolean {
    return this.db.prepare('DELETE FROM ci_watches WHERE repo = ? AND branch = ? AND workflow = ?').run(repo, branch, workflow).changes === 1;
  }

  state(repo: string, branch: string, workflow: string): KnownState | undefined {
    const r = this.db.prepare('SELECT * FROM ci_states WHERE repo = ? AND branch = ? AND workflow = ?').get(repo, branch, workflow) as StateRow | undefined;
    return r && { repo: r.repo, branch: r.branch, workflow: r.workflow, state: r.state, conclusion: r.conclusion, sha: r.sha, url: r.url, observedMs: r.observed_ms, updatedAt: r.updated_at };
  }

  /** Known states of a repo (one branch when given). */
  states(repo: string, branch?: string): KnownState[] {
    const rows = (branch === undefined
      ? this.db.prepare('SELECT * FROM ci_states WHERE repo = ? ORDER BY branch, workflow').all(repo)
      : this.db.prepare('SELECT * FROM ci_states WHERE repo = ? AND branch = ? ORDER BY workflow').all(repo, branch)) as StateRow[];
    return rows.map((r) => ({ repo: r.repo, branch: r.branch, workflow: r.workflow, state: r.state, conclusion: r.conclusion, sha: r.sha, url: r.url, observedMs: r.observed_ms, updatedAt: r.updated_at }));
  }

  /** Records what is known now for one (repo, branch, workflow). */
  putState(o: CiObservation): void {
    this.db
      .prepare(
        `INSERT INTO ci_states (repo, branch, workflow, state, conclusion, sha, url, observed_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (repo, branch, workflow) DO UPDATE SET state = excluded.state, conclusion = excluded.conclusion, sha = excluded.sha, url = excluded.url, observed_ms = excluded.observed_ms, updated_at = excluded.updated_at`,
      )
      .run(o.repo, o.branch, o.workflow, o.state, o.conclusion, o.sha, o.url, o.observedMs ?? null, new Date().toISOString());
  }

  /** Remembers a delivery id; false when it was seen before. Only the newest `deliveryMemory` ids are kept. */
  claimDelivery(id: string): boolean {
    const fresh = this.db.prepare('INSERT OR IGNORE INTO ci_deliveries (id, received_ms) VALUES (?, ?)').run(id, Date.now());
    if (fresh.changes === 0) return false;
    this.db.prepare('DELETE FROM ci_deliveries WHERE seq <= ?').run(Number(fresh.lastInsertRowid) - this.deliveryMemory);
    return true;
  }

  /** Forgets a delivery that failed to be handled, so GitHub's redelivery is handled. */
  releaseDelivery(id: string): void {
    this.db.prepare('DELETE FROM ci_deliveries WHERE id = ?').run(id);
  }

  deliveriesRemembered(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM ci_deliveries').get() as { n: number }).n;
  }
}
