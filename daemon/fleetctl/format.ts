import type { FleetEvent, Level } from '../../shared/events.js';

const COLOURS: Record<Level, string> = { debug: '90', info: '0', notice: '36', warning: '33', error: '31' };

/** One human line for an event: id, local time, level, topic, subject, message. */
export function formatEvent(e: FleetEvent, colour: boolean): string {
  const d = new Date(e.ts);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const level = e.level.padEnd(7);
  const fields = [`${e.id}`.padStart(6), time, colour ? `\x1b[${COLOURS[e.level]}m${level}\x1b[0m` : level, e.topic, e.subject ?? '-', e.message];
  return fields.join('  ');
}
