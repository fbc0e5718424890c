/**
 * A POSIX sh script that sends `signal` to every descendant of `root` (not root itself) on
 * the member. Short commands run in a subshell of a long-lived driver with no job control,
 * so there is no process group to signal; we walk the process tree instead: `ps` where it
 * exists, /proc otherwise. Prints the pids it signalled.
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
