import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEETCTL, FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

describe('fleetctl exec when fleetd dies mid-command', () => {
  let fleetd: FleetdProcess;

  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
    const mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', { name: 'here', kind: 'local' });
    await mcp.close();
  }, 60_000);
  afterAll(async () => {
    await fleetd?.dispose();
  });

  it('says the command may or may not have finished, and exits non-zero (no crash, no hang)', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [FLEETCTL, '--home', fleetd.home, 'exec', 'here', '--', `echo started; sleep 30.${process.pid}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // Output streams live: the first line is there while the command still runs.
    await new Promise<void>((resolve) => child.stdout.on('data', (c) => ((stdout += c), stdout.includes('started') && resolve())));
    await fleetd.kill9();
    const code = await exited;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/^fleetctl: .*may or may not have finished/m);
    expect(stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  });
});
