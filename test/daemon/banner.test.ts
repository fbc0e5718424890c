import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startupBanner, type BannerInput } from '../../daemon/banner.js';
import { FleetdProcess, fleetctl } from '../helpers/fleetd.js';

const defaultHome = join(homedir(), '.fleet');
const base: BannerInput = {
  version: '9.9.9',
  pid: 42,
  url: 'http://127.0.0.1:7411',
  port: 7411,
  home: defaultHome,
  tokenPath: join(defaultHome, 'token'),
  requestedPort: undefined,
  defaultPort: 7411,
};

describe('start-up banner', () => {
  it('on the default home and port: plain commands and the HTTP claude mcp add, no note', () => {
    const text = startupBanner(base);
    expect(text).toContain('  events:      fleetctl events --follow\n');
    expect(text).toContain(`claude mcp add --transport http fleet http://127.0.0.1:7411/mcp --header "Authorization: Bearer $(cat ${defaultHome}/token)"`);
    expect(text).not.toContain('--home');
    expect(text).not.toMatch(/note|fleet-bridge/);
  });

  it('with another home, every command it prints names --home (quoted when it must be)', () => {
    const text = startupBanner({ ...base, home: '/srv/fleet home', tokenPath: '/srv/fleet home/token', requestedPort: 7500, port: 7500, url: 'http://127.0.0.1:7500' });
    expect(text).toContain("fleetctl --home '/srv/fleet home' events --follow");
    expect(text).toContain(`$(cat '/srv/fleet home/token')`);
    expect(text).not.toMatch(/note|fleet-bridge/); // --port 7500 is fixed: the URL holds
  });

  it('with --port 0: says the URL breaks at the next restart and offers the bridge', () => {
    const text = startupBanner({ ...base, home: '/tmp/h', tokenPath: '/tmp/h/token', requestedPort: 0, port: 40123, url: 'http://127.0.0.1:40123' });
    expect(text).toMatch(/port 40123 holds for this run only \(port 0 asks for any free port\): a URL with it breaks at the next restart/);
    expect(text).toContain('  Claude Code: claude mcp add fleet -- fleet-bridge --autostart --home /tmp/h\n');
    expect(text).toContain('  (this run):  claude mcp add --transport http fleet http://127.0.0.1:40123/mcp');
  });

  it('when 7411 was taken and a free port used: says so and offers the bridge', () => {
    const text = startupBanner({ ...base, port: 40124, url: 'http://127.0.0.1:40124' });
    expect(text).toMatch(/port 40124 holds for this run only \(port 7411 was taken\)/);
    expect(text).toContain('  Claude Code: claude mcp add fleet -- fleet-bridge --autostart\n');
  });
});

describe('the banner of a real fleetd', () => {
  const d = new FleetdProcess();
  afterAll(() => d.dispose());

  it('prints commands for its own home that work as printed', async () => {
    await d.start();
    await expect.poll(() => d.stderr, { timeout: 10_000 }).toContain('Claude Code:');
    expect(d.stderr).toContain(`fleetctl --home ${d.home} events --follow`);
    expect(d.stderr).toContain(`claude mcp add fleet -- fleet-bridge --autostart --home ${d.home}`);
    expect(d.stderr).toMatch(/holds for this run only \(port 0 asks for any free port\)/);
    // The --home the banner prints is what reaches this daemon.
    const r = await fleetctl(['--home', d.home, 'status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ url: d.url });
  });
});
