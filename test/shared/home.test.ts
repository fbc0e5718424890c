import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePrivateFile } from '../../shared/home.js';

describe('writePrivateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-home-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never writes through a symlink planted at its temporary name or at the file itself', () => {
    const outside = join(dir, 'outside');
    writeFileSync(outside, 'untouched\n', { mode: 0o644 });
    const file = join(dir, 'cursor.json');
    symlinkSync(outside, `${file}.${process.pid}.tmp`);
    writePrivateFile(file, 'new\n');
    expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    symlinkSync(outside, join(dir, 'linked.json'));
    writePrivateFile(join(dir, 'linked.json'), 'new\n');
    expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
    expect(lstatSync(join(dir, 'linked.json')).isFile()).toBe(true);
  });
});
