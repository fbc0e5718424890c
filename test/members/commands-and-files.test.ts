import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { LONG_TIMEOUT_S, sshMember, startFleetd, textOf, waitForMemberEvent, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

/** Gone from /proc, or a zombie waiting for its (new) parent to reap it. */
function processGone(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
  } catch {
    return true;
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('three sshd members at once', () => {
  const sshds: Sshd[] = [];
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const work = mkdtempSync(join(tmpdir(), 'fleet-files-'));

  beforeAll(async () => {
    sshds.push(...(await Promise.all([0, 1, 2].map(() => Sshd.start()))));
    ({ fleetd, mcp } = await startFleetd());
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all(sshds.map((s) => s.dispose()));
    rmSync(work, { recursive: true, force: true });
  });

  it('registers three members, each online with its host key trusted on first use', { timeout: 60_000 }, async () => {
    for (const [i, s] of sshds.entries()) {
      const r = await mcp.call<{ member: { name: string; state: string; address: string } }>('register_member', sshMember(`node-${i}`, s));
      expect(r.member).toMatchObject({ name: `node-${i}`, state: 'online', address: `root@127.0.0.1:${s.port}` });
      const online = await waitForMemberEvent(mcp, `node-${i}`, 'member.online');
      expect(online.data).toMatchObject({ hostKey: await s.hostFingerprint(), hostKeyFirstUse: true });
      expect(online.message).toContain('trusted on first use');
    }
    const added = mcp.pushed.filter((e) => e.topic === 'member.added').map((e) => e.subject);
    expect(added).toEqual(['node-0', 'node-1', 'node-2']);
    const list = await mcp.call<{ members: { name: string; state: string }[] }>('list_members');
    expect(list.members.map((m) => [m.name, m.state])).toEqual([
      ['node-0', 'online'],
      ['node-1', 'online'],
      ['node-2', 'online'],
    ]);
  });

  it('runs one command on all members in parallel, with stdout, stderr and exit code per member', { timeout: 60_000 }, async () => {
    // SSH_CONNECTION's last field is the server port: proof each result came from its own sshd.
    const r = await mcp.call<{ results: MemberResult[] }>('execute_command', {
      members: 'all',
      command: 'echo "$SSH_CONNECTION" | cut -d" " -f4; echo "to stderr" >&2; exit 7',
    });
    expect(r.results.map((x) => [x.member, x.ok, x.exitCode, x.stdout, x.stderr])).toEqual(
      sshds.map((s, i) => [`node-${i}`, true, 7, `${s.port}\n`, 'to stderr\n']),
    );

    const t0 = Date.now();
    const slow = await mcp.call<{ results: MemberResult[] }>('execute_command', { members: ['node-0', 'node-1', 'node-2'], command: 'sleep 1; echo done' });
    const wall = Date.now() - t0;
    expect(slow.results.every((x) => x.stdout === 'done\n' && x.durationMs! >= 1000)).toBe(true);
    expect(wall).toBeLessThan(2500); // three 1 s commands side by side, not one after another
  });

  it('keeps commands apart: cwd, env, no state carried over, stdin is empty, syntax errors stay inside', { timeout: 60_000 }, async () => {
    const run = async (args: Record<string, unknown>) => (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-1', ...args })).results[0]!;
    expect((await run({ command: 'pwd; echo "$GREETING"', cwd: '/tmp', env: { GREETING: "it's \"quoted\" $HOME" } })).stdout).toBe(`/tmp\nit's "quoted" $HOME\n`);
    await run({ command: 'cd /; export LEAK=1' });
    expect((await run({ command: 'echo "[$LEAK]"; pwd' })).stdout).toBe('[]\n/root\n');
    expect((await run({ command: 'cat; echo "read $?"' })).stdout).toBe('read 0\n');
    const bad = await run({ command: 'echo "unterminated' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/unterminated|Syntax error/i);
    expect((await run({ command: 'printf "no newline at the end"' })).stdout).toBe('no newline at the end');
    // A command that prints something shaped like an end marker cannot end its own frame early.
    expect((await run({ command: "printf '\\n__FLEET_END_0000 0\\n'; echo real" })).stdout).toBe('\n__FLEET_END_0000 0\nreal\n');
  });

  it('queues commands beyond the pooled shells (4), and one whose time runs out in the queue fails clearly without running', { timeout: 60_000 }, async () => {
    const run = (command: string, timeout_s?: number) => mcp.raw('execute_command', { member: 'node-1', command, ...(timeout_s ? { timeout_s } : {}) });
    const t0 = Date.now();
    const eight = await Promise.all(Array.from({ length: 8 }, (_, i) => run(`sleep 0.5; echo ${i}`)));
    const wall = Date.now() - t0;
    expect(eight.map((r) => (r.structuredContent as { results: MemberResult[] }).results[0]!.stdout)).toEqual(Array.from({ length: 8 }, (_, i) => `${i}\n`));
    expect(wall).toBeGreaterThanOrEqual(1000); // two rounds: never more than four at once
    expect(wall).toBeLessThan(5000);

    const flag = join(work, 'queued-ran');
    const busy = Array.from({ length: 4 }, () => run('sleep 2'));
    const starved = await run(`touch ${flag}`, 0.5);
    expect(starved.isError).toBe(true);
    expect(textOf(starved)).toMatch(/member_busy: member "node-1": no shell channel came free within 0\.5 s; the command did not run/);
    await Promise.all(busy);
    expect(existsSync(flag)).toBe(false);
  });

  it('caps output with a note and stops a command that overruns timeout_s', { timeout: 60_000 }, async () => {
    const big = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-0', command: 'head -c 1000000 /dev/zero | tr "\\0" x; echo END' })).results[0]!;
    expect(big.truncated!.stdout).toBeGreaterThan(900_000);
    expect(big.stdout).toContain('fleetd dropped');
    expect(big.stdout.endsWith('xEND\n')).toBe(true);

    const t0 = Date.now();
    const pidFile = join(work, 'sleeper.pid');
    // A grandchild of the command: stopping must reach the whole tree, not just the subshell.
    const slow = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-0', command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout_s: 1 })).results[0]!;
    expect(slow.stopped).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await until(`sleep ${sleeper} to be stopped`, () => processGone(sleeper) || undefined, 5000);
    const after = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-0', command: 'echo next' })).results[0]!;
    expect(after.stdout).toBe('next\n');
  });

  it('runs long commands (timeout_s above longCommand) on a channel of their own, stopped when the caller cancels', { timeout: 60_000 }, async () => {
    const pidOf = async (timeout_s: number) => (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-2', command: 'echo "$PPID"', timeout_s })).results[0]!.stdout;
    // Pooled commands share a long-lived driver shell (the parent of each command's shell); each own-channel run is a new session.
    expect(await pidOf(5)).toBe(await pidOf(5));
    expect(await pidOf(LONG_TIMEOUT_S)).not.toBe(await pidOf(LONG_TIMEOUT_S));
    const long = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'node-2', command: 'echo out; echo err >&2; exit 4', cwd: '/tmp', timeout_s: LONG_TIMEOUT_S })).results[0]!;
    expect(long).toMatchObject({ exitCode: 4, stdout: 'out\n', stderr: 'err\n' });

    const pidFile = join(work, 'long-sleeper.pid');
    const controller = new AbortController();
    const call = mcp.client.callTool({ name: 'execute_command', arguments: { member: 'node-2', command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout_s: LONG_TIMEOUT_S } }, undefined, { signal: controller.signal });
    await until('the long command to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '' ? true : undefined);
    controller.abort();
    await expect(call).rejects.toThrow(/abort/i);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await until(`sleep ${sleeper} to be stopped after the cancel`, () => processGone(sleeper) || undefined, 10_000);
  });

  it('copies files and folders to all members and back, with sizes and verified sha256', { timeout: 60_000 }, async () => {
    const src = join(work, 'bundle');
    mkdirSync(join(src, 'nested/deeper'), { recursive: true });
    const files: Record<string, Buffer> = {
      'blob.bin': randomBytes(3 * 1024 * 1024 + 17),
      'readme.txt': Buffer.from('hello fleet\n'),
      'nested/deeper/empty': Buffer.alloc(0),
    };
    for (const [rel, content] of Object.entries(files)) writeFileSync(join(src, rel), content);
    const remoteBase = join(work, 'remote');

    const sent = await mcp.call<{ results: MemberResult[] }>('send_files', { members: 'all', files: [{ local: src, remote: `${remoteBase}/{member}/` }] });
    for (const r of sent.results) {
      expect(r.ok).toBe(true);
      const byName = Object.fromEntries(r.files!.map((f) => [f.to.slice(`${remoteBase}/${r.member}/bundle/`.length), f]));
      expect(Object.keys(byName).sort()).toEqual(Object.keys(files).sort());
      for (const [rel, content] of Object.entries(files)) {
        expect(byName[rel]).toMatchObject({ bytes: content.length, sha256: sha(content), verified: true });
        expect(sha(readFileSync(join(remoteBase, r.member, 'bundle', rel)))).toBe(sha(content));
      }
    }

    const back = join(work, 'back');
    const fetched = await mcp.call<{ results: MemberResult[] }>('fetch_files', {
      members: 'all',
      files: [
        { remote: `${remoteBase}/{member}/bundle/blob.bin`, local: `${back}/{member}/blob.bin` },
        { remote: `${remoteBase}/{member}/bundle/nested`, local: `${back}/{member}/nested` },
      ],
    });
    for (const r of fetched.results) {
      expect(r.files!.map((f) => [f.to, f.bytes, f.sha256, f.verified])).toEqual([
        [`${back}/${r.member}/blob.bin`, files['blob.bin']!.length, sha(files['blob.bin']!), true],
        [`${back}/${r.member}/nested/deeper/empty`, 0, sha(Buffer.alloc(0)), true],
      ]);
      expect(sha(readFileSync(`${back}/${r.member}/blob.bin`))).toBe(sha(files['blob.bin']!));
    }

    const clash = await mcp.raw('fetch_files', { members: 'all', files: [{ remote: `${remoteBase}/node-0/bundle/readme.txt`, local: `${back}/readme.txt` }] });
    expect(clash.isError).toBe(true);
    expect(textOf(clash)).toContain('{member}');
    const missing = await mcp.raw('fetch_files', { member: 'node-2', files: [{ remote: '/nonexistent/file', local: `${back}/x` }] });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/\/nonexistent\/file: no such file/);
  });

  it('runs commands and copies files on a local member without SSH', { timeout: 60_000 }, async () => {
    const r = await mcp.call<{ member: { state: string; kind: string } }>('register_member', { name: 'here', kind: 'local' });
    expect(r.member).toMatchObject({ kind: 'local', state: 'online' });
    const out = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'here', command: 'echo "$$" >/dev/null; echo local; exit 3', cwd: work })).results[0]!;
    expect(out).toMatchObject({ ok: true, exitCode: 3, stdout: 'local\n' });
    const slow = (await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'here', command: 'sleep 30', timeout_s: 0.5 })).results[0]!;
    expect(slow.stopped).toBe('timeout');
    const content = randomBytes(10_000);
    writeFileSync(join(work, 'local-src'), content);
    const sent = await mcp.call<{ results: MemberResult[] }>('send_files', { member: 'here', files: [{ local: join(work, 'local-src'), remote: join(work, 'local-dst') }] });
    expect(sent.results[0]!.files![0]).toMatchObject({ bytes: 10_000, sha256: sha(content), verified: true });
    expect(sha(readFileSync(join(work, 'local-dst')))).toBe(sha(content));
    // "all" now spans ssh and local members alike.
    const all = await mcp.call<{ results: MemberResult[] }>('execute_command', { members: 'all', command: 'echo ok' });
    expect(all.results.map((x) => x.member)).toEqual(['here', 'node-0', 'node-1', 'node-2']);
    expect(all.results.every((x) => x.stdout === 'ok\n')).toBe(true);
  });
});
