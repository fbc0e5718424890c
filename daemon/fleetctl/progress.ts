/** How often a progress line is redrawn at most: often enough to look live, rarely enough to cost nothing. */
export const REDRAW_EVERY_MS = 250;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in the largest binary unit that keeps the number at or above 1 (one decimal past B). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/**
 * One progress line: a bar, the percentage, bytes done of the total and the rate so far, e.g.
 * `[##########----------]  50%  5.0 MiB / 10.0 MiB  2.5 MiB/s`.
 */
export function progressLine(done: number, total: number, elapsedMs: number, width = 20): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}  ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(Math.round(rate))}/s`;
}

/**
 * A progress line on a terminal: sums every member's bytes, redraws in place (\r) at most every
 * REDRAW_EVERY_MS, and is wiped by `clear()` before the results are printed.
 */
export class ProgressBar {
  private readonly members = new Map<string, { done: number; total: number }>();
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private drawn = false;

  /** `out.columns` 0 or unknown (a pty with no size set) counts as 80. */
  constructor(private readonly out: { write(s: string): unknown; columns?: number }) {}

  /** A member's bytes done of its total. */
  update(member: string, done: number, total: number): void {
    this.members.set(member, { done, total });
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_EVERY_MS) return;
    this.lastDraw = now;
    let d = 0;
    let t = 0;
    for (const m of this.members.values()) {
      d += m.done;
      t += m.total;
    }
    const line = `${this.members.size > 1 ? `${this.members.size} members ` : ''}${progressLine(d, t, now - this.startedAt)}`;
    this.out.write(`\r${line.slice(0, Math.max(20, (this.out.columns || 80) - 1))}\x1b[K`);
    this.drawn = true;
  }

  /** Wipes the line, if one was drawn. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
