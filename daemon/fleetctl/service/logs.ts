import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { UNIT_NAME, type ServiceLayout } from './layout.js';
import { runTool, type ManagerKind } from './managers.js';

/** The last `lines` lines of a file (reads at most the last 4 MiB). */
function tail(file: string, lines: number): { text: string; end: number } {
  const size = statSync(file).size;
  const start = Math.max(0, size - 4 * 1024 * 1024);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  const text = all.slice(-lines).join('\n');
  return { text: text ? `${text}\n` : '', end: size };
}

/** Prints what grows at the end of a file until the process is stopped. */
async function follow(file: string, from: number): Promise<never> {
  let pos = from;
  for (;;) {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size < pos) pos = 0; // truncated or replaced
    if (size > pos) {
      const buf = Buffer.alloc(size - pos);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, pos);
      } finally {
        closeSync(fd);
      }
      process.stdout.write(buf);
      pos = size;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `fleetctl service logs`: the journal under systemd, else FLEET_HOME/logs/fleetd.log. */
export async function showLogs(kind: ManagerKind, l: ServiceLayout, lines: number, followIt: boolean): Promise<void> {
  if (kind === 'systemd') {
    const r = runTool('journalctl', ['--user', '-u', UNIT_NAME, '-n', String(lines), '--no-pager', ...(followIt ? ['-f'] : [])], true);
    if (r.code !== 0) throw new Error(`journalctl --user -u ${UNIT_NAME} failed (exit ${r.code})`);
    return;
  }
  if (!existsSync(l.logFile)) {
    if (!followIt) throw new Error(`no log yet: ${l.logFile} does not exist (fleetd has not run under launchd or \`fleetctl service start\` on ${l.home})`);
    return follow(l.logFile, 0);
  }
  const { text, end } = tail(l.logFile, lines);
  process.stdout.write(text);
  if (followIt) await follow(l.logFile, end);
}
