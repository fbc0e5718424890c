import { readdir, readFile } from 'node:fs/promises';

/**
 * A POSIX sh script that sends `signal` to every descendant of `root` (not root itself) on
 * the member: how fleetd stops a running command from outside (the driver or wrapper shell
 * is `root`; once the command's shell is gone, root stops the rest of its process group).
 * Walks the process tree: `ps` where it exists, /proc otherwise. Prints the pids it signalled.
 */
export function killTreeScript(root: number, signal: 'TERM' | 'KILL'): string {
  if (!Number.isInteger(root) || root <= 1) throw new Error(`bad root pid ${root}`);
  return [
    'fleet_ps() {',
    '  if command -v ps >/dev/null 2>&1; then ps -A -o pid= -o ppid=;',
    "  else for f in /proc/[0-9]*/stat; do sed -e 's/^\\([0-9]*\\) .*) [A-Za-z] \\([0-9]*\\) .*/\\1 \\2/' \"$f\" 2>/dev/null; done; fi",
    '}',
    `pids=$(fleet_ps | awk -v root=${root} '{ parent[$1] = $2 } END { for (p in parent) { q = parent[p]; n = 0; while (q != root && (q in parent) && q > 1 && n++ < 4096) q = parent[q]; if (q == root) print p } }')`,
    `[ -z "$pids" ] || kill -s ${signal} $pids 2>/dev/null`,
    'echo $pids',
  ].join('\n');
}

/**
 * Whether a local process group still has a live member. kill(-pgid, 0) alone counts
 * zombies (under an init that never reaps them they stay forever); /proc tells them apart.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  const pids = await readdir('/proc').catch(() => undefined);
  if (!pids) return true;
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
    // Fields after the command name: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** Sends `signal` to a local process group; false when the group is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a local process group (what a local member's command left running, or the whole
 * command on timeout): SIGTERM, up to `graceMs` for it to go, then SIGKILL. Resolves at
 * once when the group is already empty.
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!Number.isInteger(pgid) || pgid <= 1 || !signalGroup(pgid, 'SIGTERM')) return;
  const giveUpAt = performance.now() + graceMs;
  while (performance.now() < giveUpAt) {
    await new Promise((r) => setTimeout(r, 20));
    if (!(await groupAlive(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
}
