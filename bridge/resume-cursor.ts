/**
 * Where a replacement session must start so the client misses nothing, and which pushed
 * events it already has. fleetd's `fleet-resume-after` sets two things on a new session:
 * where its pushes start and where its wait_for_events cursor starts. A client such as
 * Claude Code reads with wait_for_events and ignores the pushes, so its cursor can lag the
 * last push: resume from the lower of the two, and drop the pushes it already got by id.
 */
export class ResumeCursor {
  /** Newest event id in the log when the first session began (its cursors' start). */
  private floor: number | undefined;
  private lastPushed: number | undefined;
  private lastWaited: number | undefined;

  /** Records where the first session's cursors began. */
  setFloor(newestEventId: number | undefined): void {
    this.floor = newestEventId;
  }

  /** True (and remembered) for a pushed event newer than every one delivered; false for a repeat. */
  acceptPushed(id: number): boolean {
    if (this.lastPushed !== undefined && id <= this.lastPushed) return false;
    this.lastPushed = id;
    return true;
  }

  /**
   * Follows the session's wait_for_events cursor from a call's answer: fleetd moves it to
   * the answer's cursor when that is further on, whether or not `since` was given.
   */
  noteWaitAnswer(structured: unknown): void {
    const cursor = (structured as { cursor?: unknown } | undefined)?.cursor;
    if (typeof cursor === 'number' && (this.lastWaited === undefined || cursor > this.lastWaited)) this.lastWaited = cursor;
  }

  /** The fleet event id a replacement session resumes after; undefined when nothing is known. */
  resumeAfter(): number | undefined {
    const pushed = this.lastPushed ?? this.floor;
    const waited = this.lastWaited ?? this.floor;
    if (pushed === undefined) return waited;
    if (waited === undefined) return pushed;
    return Math.min(pushed, waited);
  }
}
