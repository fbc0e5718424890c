import type { FleetEvent } from '../../../shared/events.js';
import { levelAtLeast, type HookFilter } from './config.js';
import { compileTopicFilter } from '../../../shared/events.js';

/** One event as one short line: id, topic, subject, message; newlines folded, capped at `max` characters. */
export function eventLine(e: FleetEvent, max: number): string {
  const line = `#${e.id} ${e.topic}${e.subject ? ` (${e.subject})` : ''}: ${e.message}`.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** A filter's test for one event: topic glob and lowest level (fleet.gap always passes: a hole is news). */
export function matcherOf(filter: HookFilter): (e: FleetEvent) => boolean {
  const topic = compileTopicFilter(filter.topics) ?? (() => true);
  return (e) => e.topic === 'fleet.gap' || (topic(e.topic) && levelAtLeast(e.level, filter.minLevel));
}

/**
 * The lines a hook prints for `events`: at most `maxLines`, then "N more" naming the call
 * that reads the rest (`more` counts events known beyond the list; `open` says there may be more still).
 */
export function eventLines(events: FleetEvent[], opts: { maxLines: number; lineLength: number; open?: boolean }): string[] {
  const shown = events.slice(0, opts.maxLines);
  const lines = shown.map((e) => eventLine(e, opts.lineLength));
  const rest = events.length - shown.length;
  if (rest > 0 || (opts.open && shown.length)) {
    const since = shown[shown.length - 1]!.id;
    lines.push(`… ${rest}${opts.open ? '+' : ''} more: call wait_for_events {since: ${since}} to read them`);
  }
  return lines;
}
