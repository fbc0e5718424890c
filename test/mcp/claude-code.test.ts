import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE, FleetdProcess } from '../helpers/fleetd.js';
import { npmClient } from '../helpers/npm-client.js';
import { RecordingProxy } from '../helpers/recording-proxy.js';

// The Claude Code release issue 22 measured (README "MCP protocol eras"). Its package is a
// ~400 MB native binary, so it is installed on demand into a cache folder, not a devDependency.
const CLAUDE_CODE = '2.1.331';

/** Runs the real `claude` with a private home and config, no API key, no network beyond loopback. */
function claude(bin: string, home: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', FLEET_TOKEN: '' };
    execFile(bin, args, { cwd: home, env, timeout: 90_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

describe(`Claude Code ${CLAUDE_CODE} against a real fleetd`, () => {
  let off: FleetdProcess;
  let on: FleetdProcess;
  const proxies: Record<string, RecordingProxy> = {};
  let home: string;
  let bin: string;

  beforeAll(async () => {
    bin = await npmClient('@anthropic-ai/claude-code', CLAUDE_CODE, 'claude');
    off = await new FleetdProcess().start();
    on = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
    for (const [name, d] of [['http-off', off], ['http-on', on], ['bridge-on', on], ['channel-on', on]] as const) proxies[name] = await new RecordingProxy(() => d.url).start();
    home = mkdtempSync(join(tmpdir(), 'fleet-claude-'));
    mkdirSync(join(home, '.claude'));
  }, 360_000);

  afterAll(async () => {
    for (const p of Object.values(proxies)) await p.stop();
    await off?.dispose();
    await on?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('claude mcp list connects to fleetd in each era', async () => {
    const add = async (args: string[]) => expect((await claude(bin, home, ['mcp', 'add', ...args])).code).toBe(0);
    await add(['--transport', 'http', 'http-off', `${proxies['http-off']!.url}/mcp`, '--header', `Authorization: Bearer ${off.token}`]);
    await add(['--transport', 'http', 'http-on', `${proxies['http-on']!.url}/mcp`, '--header', `Authorization: Bearer ${on.token}`]);
    const tokenFile = join(on.home, 'token');
    await add(['bridge-on', '--', process.execPath, BRIDGE, '--url', proxies['bridge-on']!.url, '--token-file', tokenFile]);
    await add(['channel-on', '--', process.execPath, BRIDGE, '--url', proxies['channel-on']!.url, '--token-file', tokenFile, '--channel']);

    const list = await claude(bin, home, ['mcp', 'list']);
    expect(list.code, list.out).toBe(0);
    for (const name of ['http-off', 'http-on', 'bridge-on', 'channel-on']) expect(list.out, list.out).toMatch(new RegExp(`^${name}: .*✔ Connected`, 'm'));

    // mcp.modern off: server/discover gets 400, Claude Code falls back to a 2025-11-25 session and opens its GET stream.
    const httpOff = proxies['http-off']!;
    expect(httpOff.calls('server/discover').map((x) => x.status)).toEqual([400]);
    expect(httpOff.calls('initialize')).toHaveLength(1);
    expect(httpOff.getStreams.length).toBeGreaterThanOrEqual(1);
    expect(httpOff.calls('tools/list').every((x) => x.protocolVersion === '2025-11-25' && x.sessionId)).toBe(true);

    // mcp.modern on: discover answered, so 2026-07-28: stateless, no session, no GET stream, and no
    // subscriptions/listen (it listens only for list_changed, which fleetd does not declare).
    for (const name of ['http-on', 'bridge-on']) {
      const p = proxies[name]!;
      expect(p.calls('server/discover').map((x) => x.status), name).toEqual([200]);
      expect(p.calls('initialize'), name).toHaveLength(0);
      expect(p.getStreams, name).toHaveLength(0);
      expect(p.calls('tools/list').every((x) => x.protocolVersion === '2026-07-28'), name).toBe(true);
      expect(p.calls('subscriptions/listen'), name).toHaveLength(0);
    }

    // fleet-bridge --channel refuses the probe: Claude Code stays on 2025-11-25, with the GET stream that feeds its channel.
    const channel = proxies['channel-on']!;
    expect(channel.calls('server/discover')).toHaveLength(0);
    expect(channel.calls('initialize')).toHaveLength(1);
    expect(channel.getStreams.length).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
