// npm links bins as they are; make the compiled entry points executable for direct use.
import { chmodSync, existsSync } from 'node:fs';
for (const f of ['dist/daemon/main.js', 'dist/daemon/fleetctl/main.js', 'dist/bridge/main.js']) {
  if (existsSync(f)) chmodSync(f, 0o755);
}
