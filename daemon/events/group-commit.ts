import type Database from 'better-sqlite3';
import { storageError } from './storage-error.js';

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: Error) => void;
}

/**
 * Group commit for SQLite: every write submitted in one tick goes into one transaction,
 * so one fsync (synchronous=FULL) pays for the whole batch. A write's promise resolves
 * only after its transaction committed.
 */
export class GroupCommitter<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Database.Database,
    /** Writes one item inside the open transaction. */
    private readonly write: (item: I) => O,
    /** Runs after a batch committed, before its promises resolve. */
    private readonly committed: (results: O[]) => void = () => {},
  ) {}

  /** Queues a write for this tick's transaction. */
  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (also called on close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: O[];
    try {
      results = this.db.transaction(() => batch.map((p) => this.write(p.item)))();
    } catch (err) {
      // A full or failing disk is told apart from a bug: writers get storage_full (507), not "internal".
      const error = storageError(err, this.db.name) ?? (err as Error);
      for (const p of batch) p.reject(error);
      return;
    }
    try {
      this.committed(results);
    } catch (err) {
      // The batch is durable whatever a follow-up step did: answer its writers regardless.
      console.error(`fleetd: after-commit step failed: ${(err as Error).message}`);
    }
    results.forEach((r, i) => batch[i]!.resolve(r));
  }
}
