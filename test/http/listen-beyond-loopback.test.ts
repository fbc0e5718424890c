import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../daemon/http/listen-host.js';
import { FLEETD, FleetdProcess, tempHome } from '../helpers/fleetd.js';

/** Runs fleetd expecting it to refuse to start; returns its exit code and stderr. */
function runRefused(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; home: string }> {
  const home = tempHome();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETD, '--home', home, '--port', '0', ...args], { env: { ...process.env, FLEET_TOKEN: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr, home });
    });
  });
}

/** GET with a chosen Host header (fetch cannot set one). */
function getWithHost(url: string, path: string, host: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('listening beyond loopback', () => {
  it('counts 127.0.0.0/8, ::1 and localhost as loopback, nothing else', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopbackAddress(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '127.example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackAddress(h), h).toBe(false);
  });

  it('refuses a host beyond loopback without --allow-remote, saying why and what to pass, before touching the home', async () => {
    for (const [args, env] of [
      [['--host', '0.0.0.0'], {}],
      [['--host', '::'], {}],
      [[], { FLEET_HOST: '0.0.0.0' }],
    ] as [string[], Record<string, string>][]) {
      const r = await runRefused(args, env);
      homes.push(r.home);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/refusing to listen on (0\.0\.0\.0|::): .*bearer token would travel in clear/);
      expect(r.stderr).toContain('--allow-remote');
      expect(existsSync(join(r.home, 'server.json'))).toBe(false);
      expect(existsSync(join(r.home, 'fleet.db'))).toBe(false);
    }
  });

  it('listens on another loopback address (127.0.0.2) without the flag or a warning', async () => {
    const d = new FleetdProcess({ args: ['--host', '127.0.0.2'] });
    homes.push(d.home);
    try {
      await d.start();
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect(d.stderr).not.toMatch(/WARNING/);
    } finally {
      await d.stop();
    }
  });

  for (const how of ['flag', 'config'] as const) {
    it(`with ${how === 'flag' ? '--allow-remote' : '"allowRemote": true'} listens on 0.0.0.0, warns that the token travels in clear, and clients here use 127.0.0.1`, async () => {
      const d = new FleetdProcess(how === 'flag' ? { args: ['--host', '0.0.0.0', '--allow-remote'] } : { args: ['--host', '0.0.0.0'], config: { allowRemote: true } });
      homes.push(d.home);
      try {
        await d.start(); // connects only through 127.0.0.1
        expect(d.stderr).toMatch(/WARNING: listening on 0\.0\.0\.0, beyond this machine .*bearer token and everything else travel in clear/);
        expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await d.fetch('/status')).status).toBe(200);
        expect(await getWithHost(d.url, '/health', 'evil.example')).toBe(403);
      } finally {
        await d.stop();
      }
    });
  }
});

describe('/health is behind the Host guard', () => {
  it('answers 200 to this machine and 403 to a foreign Host (DNS rebinding)', async () => {
    const d = new FleetdProcess();
    homes.push(d.home);
    try {
      await d.start();
      const port = new URL(d.url).port;
      expect(await getWithHost(d.url, '/health', `127.0.0.1:${port}`)).toBe(200);
      expect(await getWithHost(d.url, '/health', `localhost:${port}`)).toBe(200);
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) expect(await getWithHost(d.url, '/health', host), host).toBe(403);
    } finally {
      await d.stop();
    }
  });
});
