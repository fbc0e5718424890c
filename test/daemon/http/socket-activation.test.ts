import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLEETD, tempHome, until } from '../../helpers/fleetd.js';
import { McpTestClient } from '../../helpers/mcp.js';
import { inheritedListenFd } from '../../../daemon/http/socket-activation.js';

describe('fleetd socket activation (LISTEN_FDS / LISTEN_PID, fd 3)', () => {
  const home = tempHome();
  let socket: Server | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    socket?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('takes fd 3 only when LISTEN_PID names it, and clears the variables for its children', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '1', LISTEN_FDNAMES: 'fleetd.socket' };
    expect(inheritedListenFd(env, 42)).toBe(3);
    expect(env).toEqual({});
    expect(inheritedListenFd({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42)).toBeUndefined();
    expect(inheritedListenFd({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42)).toBeUndefined();
    expect(inheritedListenFd({}, 42)).toBeUndefined();
  });

  it('serves HTTP and MCP on a listening socket passed as fd 3, as systemd passes it', async () => {
    // The listening socket is made here, as systemd's fleetd.socket would, and bound before fleetd starts.
    socket = createServer();
    await new Promise<void>((r) => socket!.listen(0, '127.0.0.1', r));
    const port = (socket.address() as AddressInfo).port;
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    expect(fd).toBeGreaterThan(2);
    // LISTEN_PID must be fleetd's own pid: sh sets it to its $$ and execs node, which keeps that pid (and fd 3).
    child = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, FLEETD, '--home', home], {
      env: { ...process.env, FLEET_TOKEN: '', FLEET_PORT: '', FLEET_HOST: '' },
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const info = await until(`server.json from the socket-activated fleetd (stderr: ${stderr})`, () => {
      if (child!.exitCode !== null) throw new Error(`fleetd exited ${child!.exitCode}: ${stderr}`);
      try {
        const s = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number; url: string; port: number };
        return s.pid === child!.pid ? s : undefined;
      } catch {
        return undefined;
      }
    });
    expect(info.url).toBe(`http://127.0.0.1:${port}`);
    expect(stderr).toContain(`listening on the socket systemd passed (fd 3, 127.0.0.1:${port})`);
    // This process no longer accepts on it: every connection goes to fleetd.
    socket.close();
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    const status = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    const mcp = await McpTestClient.connect({ url: info.url, auth: { authorization: `Bearer ${token}` } } as never);
    try {
      expect(Object.keys(await mcp.call('fleet_status'))).toContain('version');
      // A local member's command does not see the variables: the socket is fleetd's, not theirs.
      await mcp.call('register_member', { name: 'here', kind: 'local' });
      const r = await mcp.call<{ results: { stdout: string }[] }>('execute_command', { member: 'here', command: 'echo "pid=${LISTEN_PID:-none} fds=${LISTEN_FDS:-none}"' });
      expect(r.results[0]!.stdout).toBe('pid=none fds=none\n');
    } finally {
      await mcp.close();
    }
  });
});
