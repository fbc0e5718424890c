import type { FleetEvent } from '../../shared/events.js';
import type { EventLog } from '../events/event-log.js';
import { messageOf, type CiObservation } from './observation.js';
import type { CiStore, KnownState } from './store.js';

/** What an observation means against what was known: a flip to report, a quiet update, or nothing. */
function verdict(prev: KnownState | undefined, o: CiObservation): 'flip' | 'update' | 'stale' {
  // A late delivery of something older than what is known changes nothing.
  if (prev?.observedMs && o.observedMs && o.observedMs < prev.observedMs) return 'stale';
  if (prev?.state === o.state) return 'update';
  // Going (back) to pending is recorded without an event: the flip is the conclusion that follows.
  return o.state === 'pending' ? 'update' : 'flip';
}

/**
 * Turns observations into ci.status events: one per flip of (repo, branch, workflow), none
 * for a repeat. The new state and its event are committed in one transaction, and the check
 * is made again inside it, so a webhook and a poll seeing the same flip report it once.
 */
export class CiReporter {
  constructor(
    private readonly store: CiStore,
    private readonly log: EventLog,
  ) {}

  /** Records an observation; resolves with the ci.status event when it was a flip. */
  async record(o: CiObservation): Promise<FleetEvent | undefined> {
    const first = verdict(this.store.state(o.repo, o.branch, o.workflow), o);
    if (first === 'stale') return undefined;
    if (first === 'update') {
      this.store.putState(o);
      return undefined;
    }
    return this.log.appendWith(
      {
        topic: 'ci.status',
        level: o.state === 'failure' ? 'warning' : 'notice',
        subject: o.repo,
        message: messageOf(o),
        data: { repo: o.repo, branch: o.branch || null, sha: o.sha || null, workflow: o.workflow, state: o.state, conclusion: o.conclusion, url: o.url },
      },
      () => {
        if (verdict(this.store.state(o.repo, o.branch, o.workflow), o) !== 'flip') return false;
        this.store.putState(o);
        return true;
      },
    );
  }
}
