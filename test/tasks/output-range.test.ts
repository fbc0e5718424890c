import { describe, expect, it } from 'vitest';
import { decodeRange } from '../../daemon/tasks/output-range.js';

/** The range script's answer for `bytes` read from a stream of `size` bytes. */
const answer = (size: number, bytes: Buffer) => `${size}\n${bytes.toString('base64')}\n`;
const req = (offset: number, length: number) => ({ stream: 'stdout' as const, offset, length });

describe('a byte range of task output', () => {
  it('where more follows, ends after the last newline, and the next read starts there', () => {
    const r = decodeRange(answer(100, Buffer.from('one\ntwo\nthr')), req(10, 11), false);
    expect(r).toMatchObject({ text: 'one\ntwo\n', bytes: 8, nextOffset: 18, size: 100 });
  });

  it('a line longer than the range is cut between characters, never inside one', () => {
    const euro = Buffer.from('€€'); // 3 bytes each
    const r = decodeRange(answer(50, euro.subarray(0, 5)), req(0, 5), false);
    expect(r).toMatchObject({ text: '€', bytes: 3, nextOffset: 3 });
  });

  it('at the end of a running task holds back only a partial character; once ended gives everything', () => {
    const bytes = Buffer.concat([Buffer.from('50% done ü'), Buffer.from('✓').subarray(0, 2)]);
    expect(decodeRange(answer(bytes.length, bytes), req(0, 1000), false)).toMatchObject({ text: '50% done ü', bytes: 11 });
    expect(decodeRange(answer(bytes.length, bytes), req(0, 1000), true).bytes).toBe(13);
  });

  it('a range too short for one character still moves on; an empty read is empty', () => {
    expect(decodeRange(answer(9, Buffer.from('€').subarray(0, 2)), req(0, 2), false).bytes).toBe(2);
    expect(decodeRange(answer(9, Buffer.alloc(0)), req(9, 100), false)).toMatchObject({ text: '', bytes: 0, nextOffset: 9 });
  });
});
