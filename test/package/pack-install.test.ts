import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempHome, until } from '../helpers/fleetd.js';

const run = promisify(execFile);
const work = tempHome('fleet-pack-');

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  // npm install fetches the dependencies from the registry and builds the native modules
  // (better-sqlite3, ssh2) when no prebuilt binary fits: minutes, not seconds.
  it('packs, installs into a clean prefix, and its three bins run', { timeout: 900_000 }, async () => {
    // --ignore-scripts on pack only: `prepare` would rebuild dist/ under the other suites; the
    // suite runs against a fresh build already. The install below runs every install script.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 << 20 });
    const tgz = readdirSync(work).find((f) => /^fleet-.*\.tgz$/.test(f));
    expect(tgz).toBeDefined();
    const prefix = join(work, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tgz!)], { cwd: work, maxBuffer: 16 << 20, timeout: 840_000 });
    const bin = (name: string) => join(prefix, 'bin', name);
    for (const name of ['fleetd', 'fleetctl', 'fleet-bridge']) {
      expect(existsSync(bin(name)), name).toBe(true);
      const { stdout } = await run(bin(name), ['--help'], { env: { ...process.env, FLEET_TOKEN: '' } });
      expect(stdout, name).toMatch(new RegExp(`^${name} `));
    }
    const pkg = JSON.parse(readFileSync(join(prefix, 'lib/node_modules/fleet/package.json'), 'utf8')) as { version: string };
    expect((await run(bin('fleetctl'), ['--version'])).stdout.trim()).toBe(pkg.version);

    // The installed fleetd really starts (its native modules load) and fleetctl reaches it.
    const home = join(work, 'home');
    const d = spawn(bin('fleetd'), ['--home', home, '--port', '0'], { stdio: 'ignore', env: { ...process.env, FLEET_TOKEN: '' } });
    try {
      await until('the installed fleetd to announce itself', () => existsSync(join(home, 'server.json')) || undefined, 30_000);
      const st = await run(bin('fleetctl'), ['--home', home, 'status', '--json'], { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '' } });
      expect(JSON.parse(st.stdout)).toMatchObject({ version: pkg.version, home });
    } finally {
      d.kill('SIGTERM');
    }
  });
});
