import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../shared/discovery.js';
import { FleetdProcess, ROOT, tempHome, until } from '../helpers/fleetd.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('npm start', () => {
  it('stops fleetd when npm is stopped (SIGTERM), freeing the port and the home', async () => {
    const home = tempHome();
    const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--home', home], { cwd: ROOT, env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    npm.stderr!.on('data', (d) => (stderr += d));
    const npmExited = new Promise((r) => npm.once('exit', r));
    let fleetdPid = 0;
    cleanup.push(() => {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      if (fleetdPid && isProcessAlive(fleetdPid)) process.kill(fleetdPid, 'SIGKILL');
    });
    const info = await until(`npm start to bring fleetd up (stderr: ${stderr})`, () => {
      try {
        return JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number; url: string };
      } catch {
        return undefined;
      }
    }, 30_000);
    fleetdPid = info.pid;
    expect(fleetdPid).not.toBe(npm.pid);

    npm.kill('SIGTERM'); // what systemd, a supervisor or `kill` sends to the npm process
    await npmExited;
    await until('fleetd to be gone after npm was stopped', () => !isProcessAlive(fleetdPid) || undefined, 15_000);
    expect(await fetch(`${info.url}/health`).then(() => 'answered', () => 'refused')).toBe('refused');

    // The home is free at once: a new fleetd takes it.
    const next = new FleetdProcess({ home });
    cleanup.push(() => next.dispose());
    await next.start();
    expect(await next.stop()).toBe(0);
  }, 60_000);
});
