import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetdProcess } from '../helpers/fleetd.js';
import { HostileSftp, type HostileEntry } from '../helpers/hostile-sftp.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { startFleetd, textOf, type MemberResult } from '../helpers/members.js';
import { makeKey } from '../helpers/sshd.js';

/** Every path under `dir`, recursively (what a fetch may have written). */
function tree(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : [];
}

describe('fetch_files from a member whose SFTP server sends hostile file names', () => {
  let hostile: HostileSftp;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const work = mkdtempSync(join(tmpdir(), 'fleet-hostile-'));
  // Aimed at an absolute place, as an attacker aims at ~/.bashrc: enough ".." to reach / from any destination.
  const escapee = `fleet-escaped-${randomBytes(6).toString('hex')}`;
  const toRoot = `${'../'.repeat(40)}tmp/${escapee}`;

  beforeAll(async () => {
    hostile = await HostileSftp.start();
    ({ fleetd, mcp } = await startFleetd());
    const key = await makeKey(join(work, 'id_ed25519'));
    const r = await mcp.call<{ member: { state: string } }>('register_member', { name: 'evil', host: '127.0.0.1', port: hostile.port, user: 'root', identity_file: key });
    expect(r.member.state).toBe('online');
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await hostile?.dispose();
    rmSync(work, { recursive: true, force: true });
    rmSync(join('/tmp', escapee), { force: true });
  });

  const refused: [string, HostileEntry[]][] = [
    ['a path up to / (CVE-2019-6111)', [{ name: toRoot, kind: 'file' }]],
    ['a parent-relative name', [{ name: '../../escaped', kind: 'file' }]],
    ['a name with a slash', [{ name: 'a/b', kind: 'file' }]],
    ['an absolute name', [{ name: `/tmp/${escapee}`, kind: 'file' }]],
    ['".." as a file', [{ name: '..', kind: 'file' }]],
    ['"." as a file', [{ name: '.', kind: 'file' }]],
    ['a name with NUL', [{ name: 'x\u0000y', kind: 'file' }]],
    ['".." as a symbolic link', [{ name: '..', kind: 'symlink' }]],
  ];

  for (const [what, entries] of refused) {
    it(`refuses ${what}: an unsafe_name error naming the member and the name, and nothing written anywhere`, { timeout: 30_000 }, async () => {
      // A good file sorts first: nothing at all is written once any name is refused.
      hostile.listings.clear();
      hostile.requests.length = 0;
      hostile.listings.set('/loot', [{ name: '0-fine.txt', kind: 'file' }, ...entries]);
      const before = tree(work);
      const dest = join(work, 'fetched', 'deep');
      const r = await mcp.raw('fetch_files', { member: 'evil', files: [{ remote: '/loot', local: `${dest}/` }] });
      expect(r.isError).toBe(true);
      const text = textOf(r);
      expect(text).toContain('evil: ✗ unsafe_name: member "evil" listed');
      expect(text).toContain(JSON.stringify(entries[0]!.name));
      expect(text).not.toContain('sha256 verified');
      expect(tree(work)).toEqual(before);
      expect(existsSync(join('/tmp', escapee))).toBe(false);
      expect(hostile.requests.filter((q) => q.startsWith('OPEN '))).toEqual([]); // no file was even opened
    });
  }

  it('refuses a member that claims more bytes than members.maxFetchBytes, before reading any', { timeout: 30_000 }, async () => {
    hostile.listings.clear();
    hostile.requests.length = 0;
    hostile.listings.set('/loot', [{ name: 'huge.bin', kind: 'file' }]);
    hostile.claimedSize = 2 ** 40; // 1 TiB, above the 16 GiB default
    try {
      const before = tree(work);
      const r = await mcp.raw('fetch_files', { member: 'evil', files: [{ remote: '/loot', local: join(work, 'huge') }] });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(`evil: ✗ transfer_too_large: refused to fetch ${2 ** 40} bytes from member "evil": above members.maxFetchBytes`);
      expect(tree(work)).toEqual(before);
      expect(hostile.requests.filter((q) => q.startsWith('OPEN '))).toEqual([]);
    } finally {
      hostile.claimedSize = undefined;
    }
  });

  it('reads no more than the listed size when the open file then claims to be endless', { timeout: 30_000 }, async () => {
    hostile.listings.clear();
    hostile.listings.set('/loot', [{ name: 'grows.bin', kind: 'file' }]);
    hostile.fstatSize = 10 * 2 ** 30; // what FSTAT says once the file is open: 10 GiB of endless bytes
    try {
      const dest = join(work, 'grows');
      const r = await mcp.call<{ results: MemberResult[] }>('fetch_files', { member: 'evil', files: [{ remote: '/loot', local: dest }] });
      expect(r.results[0]!.files!.map((f) => f.bytes)).toEqual([hostile.content.length]);
      expect(statSync(join(dest, 'grows.bin')).size).toBe(hostile.content.length);
    } finally {
      hostile.fstatSize = undefined;
    }
  });

  it('refuses a hostile name deeper in the tree, before anything of the call is written', { timeout: 30_000 }, async () => {
    hostile.listings.clear();
    hostile.listings.set('/loot', [{ name: 'a.txt', kind: 'file' }, { name: 'sub', kind: 'dir' }]);
    hostile.listings.set('/loot/sub', [{ name: '../../../escaped', kind: 'file' }]);
    const before = tree(work);
    const r = await mcp.raw('fetch_files', { member: 'evil', files: [{ remote: '/loot', local: join(work, 'nested') }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('"../../../escaped" in /loot/sub');
    expect(tree(work)).toEqual(before);
  });

  it('refuses a remote path ending in ".." copied into a folder (its basename would climb out)', { timeout: 30_000 }, async () => {
    for (const remote of ['..', '~/..', 'x/../..']) {
      const r = await mcp.raw('fetch_files', { member: 'evil', files: [{ remote, local: `${join(work, 'into')}/` }] });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(`bad_path: "${remote === '~/..' ? '..' : remote}" ends in ".."`);
    }
    expect(existsSync(join(work, 'into'))).toBe(false);
  });

  it('fetches plain names, skips what the member calls a symbolic link and lists it, and keeps serving', { timeout: 30_000 }, async () => {
    hostile.listings.clear();
    hostile.listings.set('/loot', [
      { name: '.', kind: 'dir' },
      { name: '..', kind: 'dir' },
      { name: 'fine.txt', kind: 'file' },
      { name: 'link', kind: 'symlink' },
      { name: '..hidden', kind: 'file' },
    ]);
    const dest = join(work, 'ok');
    const r = await mcp.call<{ results: (MemberResult & { skipped: { path: string; reason: string }[] })[] }>('fetch_files', { member: 'evil', files: [{ remote: '/loot', local: dest }] });
    const got = r.results[0]!;
    expect(got.files!.map((f) => f.to)).toEqual([join(dest, '..hidden'), join(dest, 'fine.txt')]);
    expect(got.skipped).toEqual([{ path: '/loot/link', reason: 'symbolic link' }]);
    expect(readFileSync(join(dest, 'fine.txt'))).toEqual(hostile.content);
    expect(tree(dest)).toEqual(['..hidden', 'fine.txt']);

    // The daemon is still up and the member still answers.
    const alive = await mcp.call<{ results: MemberResult[] }>('execute_command', { member: 'evil', command: 'echo alive' });
    expect(alive.results[0]!.stdout).toBe('alive\n');
    expect((await fleetd.fetch('/health')).ok).toBe(true);
  });
});
