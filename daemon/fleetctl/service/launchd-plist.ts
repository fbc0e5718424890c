import { LAUNCHD_LABEL, type ServiceLayout } from './layout.js';

/** Escapes text for an XML element. */
function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders the LaunchAgent plist for this installation. */
export function renderLaunchdPlist(l: ServiceLayout): string {
  const args = [l.node, l.entry, '--home', l.home].map((a) => `    <string>${xml(a)}</string>`).join('\n');
  const envs: [string, string][] = [['PATH', l.path], ['FLEET_HOME', l.home], ...(l.agentSocket ? [['SSH_AUTH_SOCK', l.agentSocket] as [string, string]] : [])];
  const envXml = envs.map(([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- fleetd as a LaunchAgent, written by fleetctl service install for this installation.
     KeepAlive/SuccessfulExit=false restarts fleetd after a failure but not after a clean stop
     (SIGTERM: exit 0). launchd cannot exempt exit codes the way systemd's RestartPreventExitStatus
     does: ThrottleInterval keeps a permanent failure (3: home held, 4: damaged fleet.db, 78:
     unsafe home) from looping fast; the log file says what to do. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
${envXml}
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>30</integer>
  <key>ExitTimeOut</key>
  <integer>15</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>Umask</key>
  <integer>63</integer>
  <key>StandardOutPath</key>
  <string>${xml(l.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(l.logFile)}</string>
</dict>
</plist>
`;
}
