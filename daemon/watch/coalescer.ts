import type { Change } from './listing.js';

/** A path's changes since the last flush, merged into one (null: created and gone again, nothing to tell). */
export interface Pending {
  rel: string;
  change: Change | null;
  /** The path's new snapshot signature when known (polling), null when gone, undefined when not known (inotify). */
  sig?: string | null;
}

/** Paths held at most between two flushes; more in one burst is reported as an overflow. */
export const MAX_PENDING = 10_000;

/** What two changes of one path in a row amount to. */
function merge(prev: Change | null | undefined, next: Change): Change | null {
  if (prev === undefined) return next;
  if (prev === null) return next === 'deleted' ? null : 'created';
  if (prev === 'created') return next === 'deleted' ? null : 'created';
  if (prev === 'deleted') return next === 'deleted' ? 'deleted' : 'modified';
  return next === 'deleted' ? 'deleted' : 'modified';
}

/**
 * Debounces a watch's changes: a path's changes are merged until the watch has been quiet
 * for `debounceMs`, and never held longer than `maxDelayMs` after the first, so a burst of
 * 1,000 writes to one file becomes a handful of `modified`, not 1,000.
 */
export class Coalescer {
  private pending = new Map<string, Pending>();
  private overflow = 0;
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly debounceMs: number,
    private readonly maxDelayMs: number,
    private readonly flush: (changes: Pending[], overflow: number) => void,
  ) {}

  add(rel: string, change: Change, sig?: string | null): void {
    const prev = this.pending.get(rel);
    if (!prev && this.pending.size >= MAX_PENDING) {
      this.overflow++;
    } else {
      const next: Pending = { rel, change: merge(prev?.change, change) };
      const known = sig !== undefined ? sig : prev?.sig;
      if (known !== undefined) next.sig = known;
      this.pending.delete(rel); // keeps the order of last change
      this.pending.set(rel, next);
    }
    const now = Date.now();
    if (!this.timer) this.firstAt = now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstAt + this.maxDelayMs - now));
    this.timer = setTimeout(() => this.flushNow(), wait);
  }

  /** Hands over everything pending now. */
  flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 && this.overflow === 0) return;
    const changes = [...this.pending.values()];
    const overflow = this.overflow;
    this.pending = new Map();
    this.overflow = 0;
    this.flush(changes, overflow);
  }

  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
