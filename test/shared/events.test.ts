import { describe, expect, it } from 'vitest';
import { compileTopicFilter, isReservedTopic, parseDuration, parseSince } from '../../shared/events.js';

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
    for (const bad of ['member.[a-z]', 'a..b', '.a', 'a.', 'a b', 'a/b', '(x)', 'x'.repeat(129)]) {
      expect(() => compileTopicFilter(bad), bad).toThrow(/bad topic glob/);
    }
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
});
