import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEETCTL, fleetctl, type FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { sshMember, startFleetd, waitForMemberEvent } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

describe('fleetctl exec and cp against real sshd members', () => {
  let a: Sshd;
  let b: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let dir: string;
  const ctl = (...args: string[]) => fleetctl(['--home', fleetd.home, ...args]);

  beforeAll(async () => {
    [a, b] = await Promise.all([Sshd.start(), Sshd.start()]);
    ({ fleetd, mcp } = await startFleetd());
    dir = mkdtempSync(join(tmpdir(), 'fleet-cp-'));
    for (const [name, s] of [['a', a], ['b', b]] as const) {
      expect((await mcp.raw('register_member', sshMember(name, s))).isError).toBeFalsy();
      await waitForMemberEvent(mcp, name, 'member.online');
    }
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all([a?.dispose(), b?.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('one member: its output as is, and the exit code of the command', { timeout: 60_000 }, async () => {
    const ok = await ctl('exec', 'a', '--', 'echo out; echo err >&2');
    expect(ok).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    // Streamed, yet as is: no newline added where the command printed none, none lost where it printed two.
    expect(await ctl('exec', 'a', '--', 'printf foo')).toMatchObject({ code: 0, stdout: 'foo' });
    expect(await ctl('exec', 'a', '--', "printf 'x\\n\\n'")).toMatchObject({ code: 0, stdout: 'x\n\n' });
    const failed = await ctl('exec', 'a', '--', 'echo before; exit 7');
    expect(failed).toMatchObject({ code: 7, stdout: 'before\n' });
    const usage = await ctl('exec', 'a');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give the command after --');
  });

  it('several members: lines prefixed per member in order, a summary, non-zero when any failed', { timeout: 60_000 }, async () => {
    const r = await ctl('exec', '-m', 'a,b', '--', 'for i in 1 2 3; do echo line$i; done');
    expect(r.code).toBe(0);
    for (const m of ['a', 'b']) expect(r.stdout.split('\n').filter((l) => l.startsWith(`${m} | `))).toEqual([`${m} | line1`, `${m} | line2`, `${m} | line3`]);
    expect(r.stderr).toContain('2 members: 2 ok, 0 failed');

    const some = await ctl('exec', '--all', '--', `[ "$SSH_CONNECTION" != "" ] && echo port $(echo $SSH_CONNECTION | cut -d' ' -f4); [ $(echo $SSH_CONNECTION | cut -d' ' -f4) = ${b.port} ] && exit 5; exit 0`);
    expect(some.code).toBe(1);
    expect(some.stdout).toContain(`b | port ${b.port}`);
    expect(some.stderr).toContain('2 members: 1 ok, 1 failed (b: exit 5)');

    const json = await ctl('exec', '--all', '--json', '--', 'echo hi');
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { member: string; ok: boolean; exitCode: number; stdout: string });
    expect(lines.map((l) => l.member).sort()).toEqual(['a', 'b']);
    expect(lines.every((l) => l.ok && l.exitCode === 0 && l.stdout === 'hi\n')).toBe(true);
  });

  it('several members: each line arrives as the member prints it, prefixed, in order per member', { timeout: 60_000 }, async () => {
    const go = join(dir, 'release-second');
    const child = spawn(process.execPath, [FLEETCTL, '--home', fleetd.home, 'exec', '-m', 'a,b', '--', `echo first; echo oops >&2; while [ ! -e ${go} ]; do sleep 0.05; done; echo second`], {
      env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // Both members' first line shows while they still wait on the file the test has not made yet.
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes('a | first\n') && stdout.includes('b | first\n')) resolve();
      };
      child.stdout.on('data', (d) => {
        stdout += d;
        check();
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', () => reject(new Error(`exited before the first lines: ${stdout} ${stderr}`)));
    });
    expect(stdout).not.toContain('second');
    writeFileSync(go, '');
    expect(await exited).toBe(0);
    for (const m of ['a', 'b']) expect(stdout.split('\n').filter((l) => l.startsWith(`${m} | `))).toEqual([`${m} | first`, `${m} | second`]);
    expect(stderr).toContain('a | oops\n');
    expect(stderr).toContain('2 members: 2 ok, 0 failed');
  });

  it("several members: a member's terminal escapes are shown, not obeyed, in prefixed lines", { timeout: 60_000 }, async () => {
    // A compromised member retitles the terminal, clears it, and overwrites its prefix with another member's name.
    const r = await ctl('exec', '-m', 'a,b', '--', "printf 'x\\033]0;pwned\\007y\\033[2J\\rb | fake\\r\\n'; printf 'e\\033[1A\\302\\233\\n' >&2");
    expect(r.code).toBe(0);
    for (const m of ['a', 'b']) {
      expect(r.stdout).toContain(`${m} | x^[]0;pwned^Gy^[[2J^Mb | fake\r\n`);
      expect(r.stderr).toContain(`${m} | e^[[1AM-^[\n`);
    }
    expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07\x9b]/);
    // One member is its output as is, like ssh.
    expect((await ctl('exec', 'a', '--', "printf '\\033[1m'")).stdout).toBe('\x1b[1m');
  });

  it('cp sends to and fetches from members, with {member} in local paths', { timeout: 60_000 }, async () => {
    const src = join(dir, 'payload.txt');
    writeFileSync(src, 'payload\n');
    const sent = await ctl('cp', src, `a,b:${dir}/remote-{member}.txt`);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('a: 1 file(s), 8 bytes sent, SHA-256 verified');
    expect(readFileSync(join(dir, 'remote-b.txt'), 'utf8')).toBe('payload\n'); // the sshd members are this machine
    const fetched = await ctl('cp', `all:${dir}/remote-a.txt`, `${dir}/back-{member}.txt`);
    expect(fetched.code).toBe(0);
    expect(readFileSync(join(dir, 'back-a.txt'), 'utf8')).toBe('payload\n');
    expect(readFileSync(join(dir, 'back-b.txt'), 'utf8')).toBe('payload\n');
    const bad = await ctl('cp', src, `${dir}/x`);
    expect(bad.code).toBe(2);
  });

  it('cp draws a progress bar only when stderr is a terminal', { timeout: 60_000 }, async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(16 * 1024 * 1024, 7));
    const plain = await ctl('cp', big, `a:${dir}/big-copy.bin`);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toBe(`a: 1 file(s), ${16 * 1024 * 1024} bytes sent, SHA-256 verified\n`);
    // On a terminal (util-linux script gives fleetctl a pty): a bar, wiped before the result line.
    const cmd = [process.execPath, FLEETCTL, '--home', fleetd.home, 'cp', big, `a:${dir}/big-tty.bin`].map((a) => `'${a}'`).join(' ');
    const tty = await new Promise<{ code: number | null; screen: string }>((resolve) => {
      const p = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      p.stdout.on('data', (d) => (screen += d));
      p.on('exit', (code) => resolve({ code, screen }));
      p.stdin.end();
    });
    expect(tty.code).toBe(0);
    expect(tty.screen).toMatch(/\r\[[#-]{20}\] +\d+%  [\d.]+ \w+ \/ 16\.0 MiB  [\d.]+ \w+\/s\x1b\[K/);
    expect(tty.screen).toContain('\r\x1b[Ka: 1 file(s), 16777216 bytes sent, SHA-256 verified');
    expect(readFileSync(join(dir, 'big-tty.bin')).length).toBe(16 * 1024 * 1024);
  });

  it('one member down: the other still answers, the down one is named, exit non-zero', { timeout: 60_000 }, async () => {
    await b.dispose();
    await waitForMemberEvent(mcp, 'b', 'member.offline', { timeoutMs: 20_000 });
    const r = await ctl('exec', '--all', '--', 'echo alive');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('a | alive\n');
    expect(r.stderr).toMatch(/^b ! \w+: /m);
    expect(r.stderr).toContain('2 members: 1 ok, 1 failed (b: ');
    const single = await ctl('exec', 'b', '--', 'echo alive');
    expect(single.code).toBe(255);
    expect(single.stderr).toMatch(/^fleetctl: b: /);
    const cp = await ctl('cp', join(dir, 'payload.txt'), `all:${dir}/again-{member}.txt`);
    expect(cp.code).toBe(1);
    expect(cp.stdout).toContain('a: 1 file(s)');
    expect(cp.stderr).toMatch(/^b: ✗ /m);
  });
});
