import { describe, expect, it } from 'vitest';
import { liveLines } from '../../daemon/members/live-lines.js';

describe('live output lines (fleetctl exec streaming)', () => {
  const collect = () => {
    const got: string[] = [];
    const l = liveLines((t) => t.replaceAll('s3cret', '[REDACTED:x]'), (stream, text) => got.push(`${stream}:${text}`));
    return { got, l };
  };

  it('passes whole lines on as they complete, redacting a secret split across chunks', () => {
    const { got, l } = collect();
    l.listener('stdout', Buffer.from('one\ntwo s3'));
    expect(got).toEqual(['stdout:one\n']);
    l.listener('stdout', Buffer.from('cret\nthree'));
    expect(got).toEqual(['stdout:one\n', 'stdout:two [REDACTED:x]\n']);
    l.end();
    expect(got).toEqual(['stdout:one\n', 'stdout:two [REDACTED:x]\n', 'stdout:three']);
  });

  it('a newline a shell holds back ends the line at once and is not counted twice when it comes', () => {
    const { got, l } = collect();
    l.listener('stdout', Buffer.from('first'));
    l.listener('stdout', Buffer.from('\n'), true);
    l.listener('stdout', Buffer.from('\n<mark'), true);
    expect(got).toEqual(['stdout:first\n']);
    l.listener('stdout', Buffer.from('\nsecond'));
    l.end();
    expect(got).toEqual(['stdout:first\n', 'stdout:second']);
  });
});
