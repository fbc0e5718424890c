import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../shared/discovery.js';
import { BRIDGE, tempHome, until } from '../helpers/fleetd.js';
import { BridgeClient } from './bridge-client.js';

function runBridge(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BRIDGE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fleet-bridge start-up', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  });

  it('with no daemon and no --autostart, initialize fails with a clear error naming how to start fleetd', async () => {
    const home = tempHome();
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const b = BridgeClient.spawn(home);
    cleanup.push(() => b.close());
    const err = await b.client.connect(b.transport).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32030);
    expect((err as McpError).message).toContain(`fleetd is not running on ${home}`);
    expect((err as McpError).message).toContain(`fleetd --home ${home}`);
    expect((err as McpError).message).toContain('--autostart');
    await until('the error on stderr too', () => b.stderr.includes('fleetd is not running'));
    expect(existsSync(join(home, 'server.json'))).toBe(false);
  });

  it('with --autostart and no daemon, starts fleetd detached, waits until healthy, and works', async () => {
    const home = tempHome();
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    // The autostarted daemon outlives the bridge: end it by the pid it announced.
    cleanup.push(async () => {
      const info = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number };
      process.kill(info.pid, 'SIGKILL');
      await until('the autostarted fleetd to exit', () => !isProcessAlive(info.pid));
    });
    const b = await BridgeClient.connect(home, ['--autostart'], { FLEET_PORT: '0' });
    cleanup.push(() => b.close());
    const info = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number; url: string };
    expect(isProcessAlive(info.pid)).toBe(true);
    expect(info.pid).not.toBe(b.pid);
    expect((await fetch(`${info.url}/health`)).ok).toBe(true);
    expect(existsSync(join(home, 'logs', 'fleetd.log'))).toBe(true);
    const status = await b.call<{ mcpSessions: number }>('fleet_status');
    expect(status.mcpSessions).toBe(1);

    // When that daemon dies, the next call starts another one and goes through.
    process.kill(info.pid, 'SIGKILL');
    await until('the first fleetd to die', () => !isProcessAlive(info.pid));
    await b.call('fleet_status');
    const again = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number; url: string };
    expect(again.pid).not.toBe(info.pid);
    expect(isProcessAlive(again.pid)).toBe(true);

    // It is detached: closing the bridge ends the session and leaves the daemon running.
    await b.close();
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    const s = (await (await fetch(`${again.url}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { mcpSessions: number };
    expect(s.mcpSessions).toBe(0);
    expect(isProcessAlive(again.pid)).toBe(true);
  });

  it('--help explains the options and exits 0; a bad option exits 2 with the reason', async () => {
    const help = await runBridge(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--home', '--url', '--token-file', '--autostart', '--wait-timeout', '--channel', '--verbose']) expect(help.stdout).toContain(flag);
    const bad = await runBridge(['--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/Unknown option '--no-such-flag'/);
    const badWait = await runBridge(['--wait-timeout', 'soon']);
    expect(badWait.code).toBe(2);
    expect(badWait.stderr).toMatch(/--wait-timeout "soon" is not a duration/);
  });
});
