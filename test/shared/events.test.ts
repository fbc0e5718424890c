import { describe, expect, it } from 'vitest';
import { compileTopicFilter, globMatches, isReservedTopic, jsonDepth, MAX_TOPIC_GLOB_LENGTH, MAX_TOPIC_GLOBS, parseDuration, parseSince, parseTopicGlobs } from '../../shared/events.js';

describe('parseSince', () => {
  const now = Date.parse('2026-03-04T05:06:07.000Z');

  it('reads a bare integer as an event id (exclusive cursor)', () => {
    expect(parseSince('0', now)).toEqual({ kind: 'id', id: 0 });
    expect(parseSince('42', now)).toEqual({ kind: 'id', id: 42 });
    expect(parseSince(' 7 ', now)).toEqual({ kind: 'id', id: 7 });
  });

  it('reads an ISO 8601 time with a zone as that instant', () => {
    expect(parseSince('2026-01-02T03:04:05Z', now)).toEqual({ kind: 'time', ms: Date.parse('2026-01-02T03:04:05Z') });
    expect(parseSince('2026-01-02T03:04:05.250Z', now)).toEqual({ kind: 'time', ms: Date.parse('2026-01-02T03:04:05.250Z') });
    expect(parseSince('2026-01-02T05:04:05+02:00', now)).toEqual({ kind: 'time', ms: Date.parse('2026-01-02T03:04:05Z') });
    expect(parseSince('2026-01-02T03:04:05-0130', now)).toEqual({ kind: 'time', ms: Date.parse('2026-01-02T04:34:05Z') });
  });

  it('reads a duration as now minus it', () => {
    expect(parseSince('90s', now)).toEqual({ kind: 'time', ms: now - 90_000 });
    expect(parseSince('10m', now)).toEqual({ kind: 'time', ms: now - 600_000 });
    expect(parseSince('2h', now)).toEqual({ kind: 'time', ms: now - 7_200_000 });
    expect(parseSince('7d', now)).toEqual({ kind: 'time', ms: now - 7 * 86_400_000 });
  });

  it('rejects an ISO time without a zone, because its meaning would depend on the machine', () => {
    expect(() => parseSince('2026-01-02T03:04:05', now)).toThrow(/bad since.*zone/);
    expect(() => parseSince('2026-01-02', now)).toThrow(/bad since/);
  });

  it('rejects garbage with a message that says what is accepted', () => {
    for (const bad of ['', 'yesterday', '-5', '10 minutes', '1e3', '12abc', '10x', '2026-13-45T99:99:99Z', '99999999999999999999']) {
      expect(() => parseSince(bad, now), bad).toThrow(/bad since/);
    }
    expect(() => parseSince('soon', now)).toThrow(/event id.*ISO 8601.*duration/);
  });
});

describe('compileTopicFilter', () => {
  it('matches nothing-filter (undefined) when no glob is given', () => {
    expect(compileTopicFilter(undefined)).toBeUndefined();
    expect(compileTopicFilter('')).toBeUndefined();
    expect(compileTopicFilter([' , '])).toBeUndefined();
  });

  it('lets member.* match member.offline but not a different namespace', () => {
    const f = compileTopicFilter('member.*')!;
    expect(f('member.offline')).toBe(true);
    expect(f('member.online')).toBe(true);
    expect(f('task.failed')).toBe(false);
    expect(f('member')).toBe(false);
    expect(f('xmember.offline')).toBe(false);
  });

  it('lets * match any run of characters, dots included', () => {
    expect(compileTopicFilter('*')!('a.b.c')).toBe(true);
    const f = compileTopicFilter('deploy.*')!;
    expect(f('deploy.web.finished')).toBe(true);
    const g = compileTopicFilter('*.failed')!;
    expect(g('task.failed')).toBe(true);
    expect(g('ci.build.failed')).toBe(true);
    expect(g('task.completed')).toBe(false);
  });

  it('matches exactly when there is no wildcard, and treats dots literally', () => {
    const f = compileTopicFilter('task.completed')!;
    expect(f('task.completed')).toBe(true);
    expect(f('taskXcompleted')).toBe(false);
    expect(f('task.completed.extra')).toBe(false);
  });

  it('takes comma-separated and repeated globs as alternatives', () => {
    const f = compileTopicFilter(['member.*,task.completed', 'ci.*'])!;
    expect(f('member.added')).toBe(true);
    expect(f('task.completed')).toBe(true);
    expect(f('ci.status')).toBe(true);
    expect(f('task.failed')).toBe(false);
  });

  it('rejects malformed globs with a clear message', () => {
    for (const bad of ['member.[a-z]', 'a..b', '.a', 'a.', 'a b', 'a/b', '(x)']) {
      expect(() => compileTopicFilter(bad), bad).toThrow(/bad topic glob/);
    }
  });

  it('refuses too many or too long globs, naming the limit', () => {
    const many = Array.from({ length: MAX_TOPIC_GLOBS + 1 }, (_, i) => `t${i}.*`);
    expect(() => compileTopicFilter(many)).toThrow(new RegExp(`too many topic globs \\(${MAX_TOPIC_GLOBS + 1}\\): give at most ${MAX_TOPIC_GLOBS}`));
    expect(() => compileTopicFilter(many.slice(0, MAX_TOPIC_GLOBS).join(','))).not.toThrow();
    expect(() => compileTopicFilter('x'.repeat(MAX_TOPIC_GLOB_LENGTH + 1))).toThrow(new RegExp(`at most ${MAX_TOPIC_GLOB_LENGTH} are accepted`));
    expect(() => compileTopicFilter('x'.repeat(MAX_TOPIC_GLOB_LENGTH))).not.toThrow();
  });

  it('collapses runs of * and drops duplicate globs', () => {
    expect(parseTopicGlobs(['a.**.b,a.**.b', '***'])).toEqual(['a.*.b', '*']);
  });

  it('matches a pathological glob against a long topic quickly and correctly (no backtracking blow-up)', () => {
    const glob = '*a*a*a*a*a*a*a*a*a*b';
    const f = compileTopicFilter(glob)!;
    const miss = 'a'.repeat(128);
    const hit = `${'a'.repeat(127)}b`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      expect(f(miss)).toBe(false);
      expect(f(hit)).toBe(true);
    }
    // The backtracking regex took about 10 s for one 40-character topic; this is generous.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('agrees with a reference regex on many random globs and topics', () => {
    let seed = 17;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pick = (alphabet: string, len: number) => Array.from({ length: len }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const glob = pick('ab.*', 1 + rnd(8));
      const topic = pick('ab.', rnd(10));
      const re = new RegExp(`^${glob.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
      expect(globMatches(glob, topic), `${glob} ~ ${topic}`).toBe(re.test(topic));
    }
  });
});

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays, and stops counting past the limit', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(jsonDepth(deep, 64)).toBe(65);
  });
});

describe('parseDuration', () => {
  it('reads units and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration(45)).toBe(45_000);
  });

  it('refuses what it cannot read', () => {
    for (const bad of ['', 'h', '-1s', '10 parsecs', '1y', 'abc']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Number.NaN)).toBeUndefined();
  });
});

describe('isReservedTopic', () => {
  it('reserves fleetd namespaces whole and leaves others free', () => {
    for (const t of ['member.online', 'task.x', 'credential.stored', 'ci.status', 'file.changed', 'fleet.gap', 'fleet', 'member']) expect(isReservedTopic(t), t).toBe(true);
    for (const t of ['deploy.finished', 'members.x', 'fleetwide.x', 'tasks']) expect(isReservedTopic(t), t).toBe(false);
  });

  it('reserves them in any letter case', () => {
    for (const t of ['FLEET.x', 'Member.online', 'TASK', 'Ci.Status', 'fIlE.changed']) expect(isReservedTopic(t), t).toBe(true);
  });
});
