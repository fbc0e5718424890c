import { describe, expect, it } from 'vitest';
import { Coalescer, MAX_PENDING, type Pending } from '../../daemon/watch/coalescer.js';
import { startPoint } from '../../daemon/watch/scripts.js';
import { diffSnapshots, inotifyChange, MAX_LINE, parseHead, parseListing, PathFilter } from '../../daemon/watch/listing.js';

const all = new PathFilter([], []);

describe('what a member sends is bounded', () => {
  it('drops over-long and malformed listing lines and takes at most maxFiles entries', () => {
    const lines = ['f 3 1700000000.5 ok.txt', `f 3 1700000000.5 ${'x'.repeat(MAX_LINE)}`, 'garbage', 'f 3 notatime bad.txt', 'd 4096 1700000001.0 sub', 'f 1 1700000002.0 sub/b'];
    const { entries, cut } = parseListing(lines, all, 10);
    expect([...entries.keys()]).toEqual(['ok.txt', 'sub', 'sub/b']);
    expect(entries.get('sub')).toBe('d'); // a folder's mtime is not a change of its own
    expect(cut).toBe(false);
    const many = Array.from({ length: 50 }, (_, i) => `f 1 1.0 f${i}`);
    const bounded = parseListing(many, all, 20);
    expect(bounded.entries.size).toBe(20);
    expect(bounded.cut).toBe(true);
  });

  it('reads only a well-formed listing heading', () => {
    expect(parseHead('fleet-list 0123456789abcdef0123456789abcdef 3 60 1700000000')).toEqual({ hash: '0123456789abcdef0123456789abcdef', lines: 3, bytes: 60, startedAt: 1700000000 });
    expect(parseHead('fleet-list 0123456789abcdef0123456789abcdef 3 60')).toBeUndefined();
    expect(parseHead('fleet-list nothex 3 60')).toBeUndefined();
    expect(parseHead('something else')).toBeUndefined();
  });

  it('holds at most MAX_PENDING paths in one debounce and counts the rest as overflow', () => {
    let got: { changes: Pending[]; overflow: number } | undefined;
    const c = new Coalescer(10_000, 10_000, (changes, overflow) => (got = { changes, overflow }));
    for (let i = 0; i < MAX_PENDING + 5; i++) c.add(`f${i}`, 'created');
    c.flushNow();
    expect(got!.changes.length).toBe(MAX_PENDING);
    expect(got!.overflow).toBe(5);
  });
});

describe('changes are merged and diffed as a user expects', () => {
  it('merges a path\'s changes within one debounce', () => {
    const seen: Pending[][] = [];
    const c = new Coalescer(10_000, 10_000, (changes) => seen.push(changes));
    c.add('a', 'created');
    c.add('a', 'modified');
    c.add('b', 'created');
    c.add('b', 'deleted');
    c.add('c', 'deleted');
    c.add('c', 'created');
    for (let i = 0; i < 1000; i++) c.add('d', 'modified');
    c.flushNow();
    expect(seen[0]!.map((p) => [p.rel, p.change])).toEqual([
      ['a', 'created'],
      ['b', null],
      ['c', 'modified'],
      ['d', 'modified'],
    ]);
  });

  it('diffs two snapshots into created, modified and deleted', () => {
    const before = new Map([['same', 'f 1 1'], ['mod', 'f 1 1'], ['gone', 'f 1 1']]);
    const after = new Map([['same', 'f 1 1'], ['mod', 'f 2 2'], ['new', 'f 1 1']]);
    expect(diffSnapshots(before, after)).toEqual([
      { rel: 'mod', change: 'modified', sig: 'f 2 2' },
      { rel: 'new', change: 'created', sig: 'f 1 1' },
      { rel: 'gone', change: 'deleted', sig: null },
    ]);
  });

  it('maps inotifywait event names and filters by include/exclude globs', () => {
    expect(inotifyChange('CLOSE_WRITE,CLOSE')).toBe('modified');
    expect(inotifyChange('CREATE,ISDIR')).toBe('created');
    expect(inotifyChange('MOVED_FROM')).toBe('deleted');
    expect(inotifyChange('OPEN')).toBeUndefined();
    const f = new PathFilter(['*.ts', 'docs/*'], ['*.test.ts']);
    expect(['a.ts', 'src/b.ts', 'src/b.test.ts', 'docs/x.md', 'y.md', ''].filter((p) => f.accepts(p))).toEqual(['a.ts', 'src/b.ts', 'docs/x.md', '']);
  });
});

describe('member scripts', () => {
  it('never hands find a start point it would read as an option', () => {
    expect(startPoint('-delete')).toBe('./-delete');
    expect(startPoint('~/-exec')).toBe('./-exec');
    expect(startPoint('/var/log')).toBe('/var/log');
  });
});
