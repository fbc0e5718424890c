import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLEETD, FleetdProcess, tempHome } from '../helpers/fleetd.js';

const NOBODY = 65534;
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function home(): string {
  const h = tempHome();
  homes.push(h);
  return h;
}

function runFleetd(home: string, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETD, '--home', home, '--port', '0', ...args], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** What every refusal shares: exit 78, one line, no stack, and the daemon never started. */
function expectRefused(r: { code: number | null; stderr: string }, h: string): void {
  expect(r.code, r.stderr).toBe(78);
  expect(r.stderr).toMatch(/^fleetd: refusing to start: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(join(h, 'server.json'))).toBe(false);
}

describe('fleetd refuses a home another user could tamper with', () => {
  it('a home owned by another user', async () => {
    const h = home();
    chownSync(h, NOBODY, NOBODY);
    const r = await runFleetd(h);
    expectRefused(r, h);
    expect(r.stderr).toContain(`${h} belongs to uid ${NOBODY}`);
    expect(r.stderr).toMatch(/chown -R \S+ /);
  });

  it('a token file owned by another user', async () => {
    const h = home();
    writeFileSync(join(h, 'token'), 'planted-token\n', { mode: 0o600 });
    chownSync(join(h, 'token'), NOBODY, NOBODY);
    const r = await runFleetd(h);
    expectRefused(r, h);
    expect(r.stderr).toContain(`${join(h, 'token')} belongs to uid ${NOBODY}`);
  });

  it('a config.json owned by another user, also over stdio', async () => {
    const h = home();
    writeFileSync(join(h, 'config.json'), JSON.stringify({ host: '0.0.0.0' }), { mode: 0o600 });
    chownSync(join(h, 'config.json'), NOBODY, NOBODY);
    expectRefused(await runFleetd(h), h);
    const stdio = await runFleetd(h, ['--transport', 'stdio']);
    expect(stdio.code).toBe(78);
    expect(stdio.stderr).toContain(`${join(h, 'config.json')} belongs to uid ${NOBODY}`);
  });

  it('a group-writable home, and a world-writable token', async () => {
    const h = home();
    chmodSync(h, 0o770);
    const r = await runFleetd(h);
    expectRefused(r, h);
    expect(r.stderr).toContain(`${h} is writable by its group (mode 770)`);
    expect(r.stderr).toContain(`chmod 700 ${h}`);

    const h2 = home();
    writeFileSync(join(h2, 'token'), 'x\n');
    chmodSync(join(h2, 'token'), 0o666);
    const r2 = await runFleetd(h2);
    expectRefused(r2, h2);
    expect(r2.stderr).toContain(`chmod 600 ${join(h2, 'token')}`);
  });

  it('starts on a home of its own user, tightening a readable one to 0700', async () => {
    const h = home();
    chmodSync(h, 0o755);
    const d = new FleetdProcess({ home: h });
    await d.start();
    expect(await d.stop()).toBe(0);
  });
});
