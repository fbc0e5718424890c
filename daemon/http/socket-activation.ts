/** The first file descriptor systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

/**
 * The listening socket systemd (socket activation) handed this process, as a file descriptor,
 * or undefined when none was: LISTEN_PID must name this process and LISTEN_FDS count at least
 * one. The variables are removed either way, as sd_listen_fds(unset) does, so the local
 * member's commands never believe the socket is theirs.
 */
export function inheritedListenFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const forUs = env.LISTEN_PID === String(pid) && Number(env.LISTEN_FDS) >= 1;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  return forUs ? FIRST_FD : undefined;
}
