import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { sshMember, startFleetd, textOf, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';

type TransferResult = MemberResult & { skipped: { path: string; reason: string }[] };

/** Every path under `dir`, recursively, with a trailing "@" on symbolic links. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((d) => `${join(d.parentPath, d.name).slice(dir.length + 1)}${d.isSymbolicLink() ? '@' : ''}`)
    .sort();
}

/**
 * One policy for send and fetch, over SSH and on the local member: inside a folder being
 * copied, symbolic links are neither followed nor recreated but listed as skipped (so are
 * special files); a path the caller names is followed.
 */
describe('symbolic links in transfers: skipped and listed, on send and fetch, ssh and local members', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const work = mkdtempSync(join(tmpdir(), 'fleet-links-'));
  const src = join(work, 'tree');
  const secret = 'outside the tree: must not travel\n';

  beforeAll(async () => {
    mkdirSync(join(src, 'sub'), { recursive: true });
    mkdirSync(join(work, 'outside-dir'));
    writeFileSync(join(work, 'secret.txt'), secret);
    writeFileSync(join(work, 'outside-dir', 'leak.txt'), secret);
    writeFileSync(join(src, 'real.txt'), 'real\n');
    writeFileSync(join(src, 'sub', 'inner.txt'), 'inner\n');
    symlinkSync('real.txt', join(src, 'link-inside'));
    symlinkSync('../secret.txt', join(src, 'link-outside'));
    symlinkSync('../outside-dir', join(src, 'link-dir-out'));
    execFileSync('mkfifo', [join(src, 'fifo')]); // reading it would block a copy forever
    sshd = await Sshd.start();
    ({ fleetd, mcp } = await startFleetd());
    expect((await mcp.call<{ member: { state: string } }>('register_member', sshMember('remote', sshd))).member.state).toBe('online');
    expect((await mcp.call<{ member: { state: string } }>('register_member', { name: 'here', kind: 'local' })).member.state).toBe('online');
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const expectedSkips = [
    { path: join(src, 'fifo'), reason: 'not a regular file or folder' },
    { path: join(src, 'link-dir-out'), reason: 'symbolic link' },
    { path: join(src, 'link-inside'), reason: 'symbolic link' },
    { path: join(src, 'link-outside'), reason: 'symbolic link' },
  ];

  for (const member of ['remote', 'here']) {
    for (const direction of ['send_files', 'fetch_files'] as const) {
      it(`${direction} on the ${member === 'here' ? 'local' : 'ssh'} member copies the files, and lists links and the pipe as skipped`, { timeout: 30_000 }, async () => {
        const dest = join(work, `${direction}-${member}`);
        const files = [direction === 'send_files' ? { local: src, remote: dest } : { remote: src, local: dest }];
        const raw = await mcp.raw(direction, { member, files });
        expect(raw.isError).toBeFalsy();
        expect(textOf(raw)).toContain(`${member}: 2 file(s), 11 bytes, sha256 verified, 3 symbolic link(s) skipped, 1 special file(s) skipped`);
        const r = (raw.structuredContent as { results: TransferResult[] }).results[0]!;
        expect(r.files!.map((f) => f.to)).toEqual([join(dest, 'real.txt'), join(dest, 'sub/inner.txt')]);
        expect(r.skipped).toEqual(expectedSkips);
        expect(tree(dest)).toEqual(['real.txt', 'sub', 'sub/inner.txt']);
      });
    }

    it(`a symbolic link named as the path itself is followed (${member === 'here' ? 'local' : 'ssh'} member, both directions)`, { timeout: 30_000 }, async () => {
      const sent = join(work, `named-sent-${member}`);
      const fetched = join(work, `named-fetched-${member}`);
      await mcp.call('send_files', { member, files: [{ local: join(src, 'link-outside'), remote: sent }] });
      await mcp.call('fetch_files', { member, files: [{ remote: join(src, 'link-outside'), local: fetched }] });
      expect(readFileSync(sent, 'utf8')).toBe(secret);
      expect(readFileSync(fetched, 'utf8')).toBe(secret);
    });
  }

  it('a path that is a broken link or a pipe is a clear error, not a hang', { timeout: 30_000 }, async () => {
    symlinkSync(join(work, 'nowhere'), join(work, 'broken'));
    for (const member of ['remote', 'here']) {
      const broken = await mcp.raw('send_files', { member, files: [{ local: join(work, 'broken'), remote: join(work, 'x') }] });
      expect(broken.isError).toBe(true);
      expect(textOf(broken)).toContain(`cannot read ${join(work, 'broken')}: no such file or directory`);
      const pipe = await mcp.raw('fetch_files', { member, files: [{ remote: join(src, 'fifo'), local: join(work, 'y') }] });
      expect(pipe.isError).toBe(true);
      expect(textOf(pipe)).toContain('it is not a regular file or folder');
    }
    expect(existsSync(join(work, 'x')) || existsSync(join(work, 'y'))).toBe(false);
  });
});
