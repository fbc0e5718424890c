import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrameScanner, frameCommand, newMarker, shellQuote, type GroupRunner } from '../../daemon/members/framing.js';
import { CappedOutput } from '../../daemon/members/output-cap.js';

/** Feeds `input` to a scanner in pieces of `size` bytes; returns what passed through and the trailer. */
function scan(input: Buffer, marker: string, withTrailer: boolean, size: number) {
  const got: Buffer[] = [];
  const s = new FrameScanner(marker, withTrailer, (b) => got.push(Buffer.from(b)));
  let done = false;
  for (let i = 0; i < input.length && !done; i += size) done = s.push(input.subarray(i, i + size));
  return { body: Buffer.concat(got).toString(), trailer: s.trailer, done };
}

describe('command framing', () => {
  it('finds the end marker and exit code however the stream is chunked', () => {
    const marker = newMarker();
    const body = `line one\n${marker.slice(0, 20)} looks like a marker but is not\nlast line`;
    const stream = Buffer.from(`${body}\n${marker} 42\nleftover`);
    for (const size of [1, 2, 3, 7, 16, 64, stream.length]) {
      expect(scan(stream, marker, true, size), `chunks of ${size}`).toEqual({ body, trailer: '42', done: true });
    }
    const err = Buffer.from(`oops\n${marker}\n`);
    for (const size of [1, 5, err.length]) expect(scan(err, marker, false, size)).toEqual({ body: 'oops', trailer: '', done: true });
  });

  it('does not end on a marker of another command', () => {
    const r = scan(Buffer.from(`\n${newMarker()} 0\nmore`), newMarker(), true, 4);
    expect(r.done).toBe(false);
  });

  it('quotes anything so that sh reads it back unchanged', () => {
    for (const s of ["it's", '"$HOME" `id` $(id) \\ \n newline', "''''", '', 'ünïcode ✓']) {
      expect(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(s)}`]).toString()).toBe(s);
    }
  });

  it('a framed command run by a real sh yields its output, then the marker with $?, on each stream', () => {
    const [m1, m2] = [newMarker(), newMarker()];
    const script = frameCommand({ command: 'echo out; echo err >&2; (exit 5)', cwd: '/', env: { X: "a'b" } }, m1) + frameCommand({ command: 'echo "[$X]"; pwd' }, m2);
    const stdout = execFileSync('/bin/sh', [], { input: script, cwd: '/tmp', stdio: ['pipe', 'pipe', 'ignore'] });
    expect(scan(stdout, m1, true, 8)).toEqual({ body: 'out\n', trailer: '5 clean', done: true });
    // The second command did not inherit the first one's cd or env.
    const rest = stdout.subarray(stdout.indexOf(`${m1} 5 clean\n`) + m1.length + 9);
    expect(scan(rest, m2, true, 8)).toEqual({ body: '[]\n/tmp\n', trailer: '0 clean', done: true });
    const stderr = execFileSync('/bin/sh', ['-c', 'exec 2>&1 1>/dev/null; sh'], { input: script, cwd: '/tmp' });
    expect(scan(stderr, m1, false, 3)).toEqual({ body: 'err\n', trailer: '', done: true });
  });
  it('ends a framed command when its shell exits and stops what it left running, with setsid or perl; without either the shell is reported dirty', () => {
    for (const runner of ['setsid', 'perl', 'none'] as GroupRunner[]) {
      const [m1, m2] = [newMarker(), newMarker()];
      const tag = `fleet-frame-leftover-${runner}-${process.pid}`;
      const script = frameCommand({ command: `sh -c '(sleep 1; echo LEAKED ${tag}) & echo started'` }, m1, runner, 500) + frameCommand({ command: 'sleep 1.5; echo next' }, m2, runner, 500);
      const t0 = Date.now();
      const stdout = execFileSync('/bin/sh', [], { input: script, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
      if (runner === 'none') {
        expect(stdout).toContain(`${m1} 0 dirty\n`);
        continue;
      }
      expect(stdout, runner).toBe(`started\n\n${m1} 0 clean\nnext\n\n${m2} 0 clean\n`);
      expect(Date.now() - t0).toBeLessThan(2500);
    }
  });
});

describe('output cap', () => {
  it('keeps everything under the limit', () => {
    const c = new CappedOutput(100);
    c.push(Buffer.from('hello '));
    c.push(Buffer.from('world'));
    expect([c.text(), c.truncatedBytes]).toEqual(['hello world', 0]);
  });

  it('keeps the head and the tail of a long output and says how much it dropped', () => {
    const c = new CappedOutput(10);
    for (const ch of 'abcdefghijklmnopqrstuvwxyz') c.push(Buffer.from(ch));
    expect(c.truncatedBytes).toBe(16);
    expect(c.text()).toBe('abcde\n[... fleetd dropped 16 bytes of output here (limit 10 bytes; see members.outputLimit) ...]\nvwxyz');
    const big = new CappedOutput(10);
    big.push(Buffer.from('0123456789ABCDEFGHIJ'));
    expect(big.text().startsWith('01234\n')).toBe(true);
    expect(big.text().endsWith('\nFGHIJ')).toBe(true);
  });
});
