import { describe, expect, it } from 'vitest';
import { formatBytes, ProgressBar, progressLine } from '../../../daemon/fleetctl/progress.js';

describe('fleetctl cp progress line', () => {
  it('shows a bar, the percentage, bytes done of the total and the rate', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(progressLine(5 * 1024 ** 2, 10 * 1024 ** 2, 2000)).toBe('[##########----------]  50%  5.0 MiB / 10.0 MiB  2.5 MiB/s');
    expect(progressLine(0, 0, 0)).toBe('[####################] 100%  0 B / 0 B  0 B/s');
    expect(progressLine(3, 4, 1000, 4)).toBe('[###-]  75%  3 B / 4 B  3 B/s');
  });

  it('redraws in place at most every 250 ms, sums members, and wipes itself', () => {
    const written: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => written.push(s), columns: 200 });
    bar.update('a', 0, 100);
    bar.update('a', 50, 100); // within 250 ms of the first draw: not drawn
    bar.update('b', 10, 100);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\r\[-+\]   0%  0 B \/ 100 B  0 B\/s\x1b\[K$/);
    bar.clear();
    expect(written[1]).toBe('\r\x1b[K');
  });
});
