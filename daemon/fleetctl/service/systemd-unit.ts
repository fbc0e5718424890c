import type { ServiceLayout } from './layout.js';

/** fleetd exit codes a restart cannot fix: bad command line, home held by another fleetd, damaged fleet.db, unsafe home. */
export const PERMANENT_EXIT_CODES = [2, 3, 4, 78] as const;

/** Quotes one ExecStart word the way systemd.service(5) reads it. */
function word(s: string): string {
  return /^[A-Za-z0-9_./:@+=,-]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An Environment= assignment, quoted whole so spaces and % survive. */
function env(name: string, value: string): string {
  return `Environment="${name}=${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** True when an agent socket lives in a folder PrivateTmp would hide from the service. */
export function underTmp(path: string | undefined): boolean {
  return !!path && /^\/(var\/)?tmp\//.test(path);
}

/**
 * Renders fleetd.socket: systemd listens on `l.listen` and hands the socket to fleetd.service
 * (fd 3, LISTEN_FDS/LISTEN_PID), so connections made while fleetd restarts wait instead of
 * being refused.
 */
export function renderSystemdSocket(l: ServiceLayout): string {
  return `# fleetd's listening socket (socket activation), written by \`fleetctl service install --socket\`.
# systemd holds the port across fleetd restarts; fleetd takes it as fd 3 and ignores --host/--port.
[Unit]
Description=fleetd listening socket

[Socket]
ListenStream=${l.listen}
# A port on loopback only unless you chose otherwise: the token is still required.
NoDelay=yes

[Install]
WantedBy=sockets.target
`;
}

/** Renders the systemd user unit for this installation. */
export function renderSystemdUnit(l: ServiceLayout): string {
  const exec = [l.node, l.entry, '--home', l.home].map(word).join(' ');
  // An ssh-agent socket under /tmp (ssh-agent's default) is invisible behind PrivateTmp.
  const privateTmp = underTmp(l.agentSocket) ? 'no' : 'yes';
  return `# fleetd as a systemd user unit, written by \`fleetctl service install\` for this installation.
# Re-run that command after moving node or fleet; \`fleetctl service uninstall\` removes it.
# ssh-agent: the user manager does not inherit your login shell's SSH_AUTH_SOCK. Either run
#   systemctl --user import-environment SSH_AUTH_SOCK && fleetctl service restart
# after each login (e.g. from ~/.profile), or install with --agent-socket PATH (a fixed socket,
# such as ssh-agent -a "$XDG_RUNTIME_DIR/ssh-agent.socket"), which sets it below.
# No network-online.target: a user manager cannot wait for it, and fleetd reconnects members itself.
[Unit]
Description=fleetd - fleet daemon (SSH members, tasks, events over MCP/SSE)
${l.listen ? `# Socket activation: systemd holds ${l.listen} (fleetd.socket) and passes it as fd 3.\nRequires=fleetd.socket\nAfter=fleetd.socket\n` : ''}StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
ExecStart=${exec}
${env('PATH', l.path)}
${env('FLEET_HOME', l.home)}
${l.agentSocket ? `${env('SSH_AUTH_SOCK', l.agentSocket)}\n` : ''}# SIGTERM makes fleetd log fleet.stopping, end its streams, flush the event log and exit 0.
KillSignal=SIGTERM
# process: a background task on the local member is meant to outlive a fleetd restart.
KillMode=process
TimeoutStopSec=15
Restart=on-failure
RestartSec=2
# 2 bad command line, 3 another fleetd holds the home, 4 damaged fleet.db, 78 unsafe home:
# restarting fixes none of them (the journal says what to do).
RestartPreventExitStatus=${PERMANENT_EXIT_CODES.join(' ')}
UMask=0077
# Hardening that keeps SSH members working: member keys and ~/.ssh stay readable and a Unix
# socket (ssh-agent) connectable. ProtectSystem=full (read-only /usr, /boot, /etc), not strict:
# strict would make the whole disk read-only for the local member's commands too.
# PrivateTmp is off when the agent socket given at install lives under /tmp.
NoNewPrivileges=yes
PrivateTmp=${privateTmp}
ProtectSystem=full
ReadWritePaths=${word(`-${l.home}`)}

[Install]
WantedBy=default.target
`;
}
