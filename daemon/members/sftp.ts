import { chmod, lstat, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import { FleetError } from '../errors.js';
import type { ChannelSlots } from './channel-slots.js';
import { sha256OfFile } from './checksums.js';
import { checkedName, intoFolder, MAX_TREE_DEPTH, memberPath, staysUnder, type SkippedEntry, type TransferItem, type TransferredFile } from './transfer-paths.js';

type Copied = Omit<TransferredFile, 'verified'>;

/** Runs `fn` on an SFTP session of its own channel, closed afterwards. */
export async function withSftp<T>(client: Client, slots: ChannelSlots, openTimeoutMs: number, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  await slots.acquire();
  try {
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new Error(`the member did not open an SFTP channel within ${Math.round(openTimeoutMs / 1000)} s`));
      }, openTimeoutMs);
      client.sftp((err, s) => {
        clearTimeout(timer);
        if (late) return void (err ? undefined : s.end());
        if (err) reject(err);
        else resolve(s);
      });
    });
    try {
      return await fn(sftp);
    } finally {
      sftp.end();
    }
  } finally {
    slots.release();
  }
}

const SFTP_CODES: Record<number, string> = { 2: 'no such file or directory', 3: 'permission denied', 4: 'failure' };

/** An SFTP or file system error as one clear line about the path it concerned. */
function transferError(what: string, path: string, e: unknown): FleetError {
  const err = e as { code?: number | string; message?: string };
  const why = typeof err.code === 'number' ? (SFTP_CODES[err.code] ?? err.message) : err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return new FleetError('transfer_failed', `${what} ${path}: ${why}`);
}

function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** mkdir -p over SFTP, remembering what exists already. */
async function ensureMemberDir(sftp: SFTPWrapper, dir: string, made: Set<string>): Promise<void> {
  if (dir === '' || dir === '.' || dir === '/' || made.has(dir)) return;
  await ensureMemberDir(sftp, posix.dirname(dir), made);
  try {
    await call<void>((cb) => sftp.mkdir(dir, (err) => cb(err, undefined)));
  } catch (e) {
    const st = await call<Stats>((cb) => sftp.stat(dir, cb)).catch(() => undefined);
    if (!st?.isDirectory()) throw transferError('cannot create folder on the member:', dir, e);
  }
  made.add(dir);
}

/** One file to copy: where from, where to, its mode and size. */
interface FileToCopy {
  source: string;
  destination: string;
  mode: number;
  size: number;
}

/** What a folder holds that a copy may take: folders are walked, files copied, the rest skipped. */
function kindOf(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): 'folder' | 'file' | SkippedEntry['reason'] {
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isDirectory()) return 'folder';
  return st.isFile() ? 'file' : 'not a regular file or folder';
}

function tooDeep(path: string): FleetError {
  return new FleetError('transfer_failed', `${path} is more than ${MAX_TREE_DEPTH} folders deep; copy a folder further down`);
}

/**
 * A local file or folder as the list of files to send. The path named is followed like any
 * path; inside a folder, symbolic links and special files are skipped (see SkippedEntry).
 */
async function localFiles(source: string, destination: string, skipped: SkippedEntry[], depth = 0): Promise<FileToCopy[]> {
  const st = await (depth === 0 ? stat(source) : lstat(source)).catch((e) => {
    throw transferError('cannot read', source, e);
  });
  const kind = kindOf(st);
  if (kind === 'file') return [{ source, destination, mode: st.mode & 0o777, size: st.size }];
  if (kind !== 'folder') {
    if (depth === 0) throw new FleetError('transfer_failed', `cannot send ${source}: it is ${kind === 'symbolic link' ? 'a broken symbolic link' : 'not a regular file or folder'}`);
    skipped.push({ path: source, reason: kind });
    return [];
  }
  if (depth >= MAX_TREE_DEPTH) throw tooDeep(source);
  const out: FileToCopy[] = [];
  for (const entry of (await readdir(source)).sort()) out.push(...(await localFiles(join(source, entry), posix.join(destination, entry), skipped, depth + 1)));
  return out;
}

/**
 * Bytes done of a transfer's total, as they move (fastPut/fastGet's step): what `onProgress`
 * of sendOverSftp and fetchOverSftp is told, for fleetctl cp's progress bar.
 */
export type TransferProgress = (done: number, total: number) => void;

/** ssh2's step callback for one file, counted on top of the files before it. */
function stepOf(onProgress: TransferProgress | undefined, before: number, total: number): { step?: (transferred: number) => void } {
  return onProgress ? { step: (transferred: number) => onProgress(before + transferred, total) } : {};
}

/** Copies local files and folders to a member; returns every file copied with its size and hash, and what was skipped. */
export async function sendOverSftp(sftp: SFTPWrapper, items: TransferItem[], onProgress?: TransferProgress): Promise<{ copied: Copied[]; skipped: SkippedEntry[] }> {
  const made = new Set<string>();
  const copied: Copied[] = [];
  const skipped: SkippedEntry[] = [];
  // Every file is listed first, so the progress has its total from the start.
  const planned: FileToCopy[] = [];
  for (const item of items) planned.push(...(await localFiles(item.source, memberPath(intoFolder(item.destination, item.source)), skipped)));
  const total = planned.reduce((n, f) => n + f.size, 0);
  let done = 0;
  onProgress?.(0, total);
  for (const f of planned) {
    await ensureMemberDir(sftp, posix.dirname(f.destination), made);
    await call<void>((cb) => sftp.fastPut(f.source, f.destination, { mode: f.mode, ...stepOf(onProgress, done, total) }, (err) => cb(err, undefined))).catch((e) => {
      throw transferError('cannot write on the member:', f.destination, e);
    });
    done += f.size;
    onProgress?.(done, total);
    copied.push({ from: f.source, to: f.destination, bytes: f.size, sha256: await sha256OfFile(f.source) });
  }
  return { copied, skipped };
}

/** Most entries one member folder may list: a member could otherwise send names forever. */
const MAX_LISTING = 1_000_000;

type Entry = { filename: string; attrs: Stats };
/** ssh2's readdir on a handle; `full` keeps the "." and ".." entries (the typings omit the option). */
type ReaddirFull = (handle: Buffer, opts: { full: boolean }, cb: (err: Error | undefined, list: Entry[]) => void) => void;

/** A member folder's entries, checked: each name one path component ("." and ".." only as the folder and its parent). */
async function memberListing(sftp: SFTPWrapper, folder: string, member: string): Promise<{ name: string; attrs: Stats }[]> {
  const handle = await call<Buffer>((cb) => sftp.opendir(folder, cb)).catch((e) => {
    throw transferError('cannot list on the member:', folder, e);
  });
  const readdirFull = sftp.readdir.bind(sftp) as unknown as ReaddirFull;
  const out: { name: string; attrs: Stats }[] = [];
  try {
    for (;;) {
      const batch = await call<Entry[]>((cb) => readdirFull(handle, { full: true }, cb)).catch((e: { code?: number }) => {
        if (e.code === 1) return undefined; // SSH_FX_EOF: the listing is complete
        throw transferError('cannot list on the member:', folder, e);
      });
      if (batch === undefined) return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of batch) {
        // A server lists the folder itself and its parent as "." and ".."; as anything else they are refused.
        if ((e.filename === '.' || e.filename === '..') && (e.attrs?.mode === undefined || e.attrs.isDirectory())) continue;
        out.push({ name: checkedName(e.filename, folder, member), attrs: e.attrs });
      }
      if (out.length > MAX_LISTING) throw new FleetError('transfer_failed', `member "${member}" listed more than ${MAX_LISTING} entries in ${folder}; refused`);
    }
  } finally {
    sftp.close(handle, () => undefined);
  }
}

/**
 * A member file or folder as the list of files to fetch, every local path checked to stay
 * under `root`. The path named is followed; inside a folder, symbolic links and special files are skipped.
 */
async function memberFiles(sftp: SFTPWrapper, source: string, destination: string, at: { root: string; member: string; skipped: SkippedEntry[] }, depth = 0, listed?: Stats): Promise<FileToCopy[]> {
  const st =
    listed?.mode !== undefined
      ? listed
      : await call<Stats>((cb) => (depth === 0 ? sftp.stat(source, cb) : sftp.lstat(source, cb))).catch((e) => {
          throw transferError('cannot read on the member:', source, e);
        });
  const kind = kindOf(st);
  if (kind === 'file') return [{ source, destination: staysUnder(at.root, destination, at.member), mode: st.mode & 0o777, size: st.size }];
  if (kind !== 'folder') {
    if (depth === 0) throw new FleetError('transfer_failed', `cannot fetch ${source}: it is ${kind === 'symbolic link' ? 'a broken symbolic link' : 'not a regular file or folder'}`);
    at.skipped.push({ path: source, reason: kind });
    return [];
  }
  if (depth >= MAX_TREE_DEPTH) throw tooDeep(`${source} on member "${at.member}"`);
  const out: FileToCopy[] = [];
  for (const e of await memberListing(sftp, source, at.member)) {
    out.push(...(await memberFiles(sftp, posix.join(source, e.name), staysUnder(at.root, join(destination, e.name), at.member), at, depth + 1, e.attrs)));
  }
  return out;
}

/**
 * Copies member files and folders here; returns every file copied with its size and hash, and
 * what was skipped. Every name is checked before anything is written.
 */
export async function fetchOverSftp(sftp: SFTPWrapper, items: TransferItem[], member: string, maxBytes: number, onProgress?: TransferProgress): Promise<{ copied: Copied[]; skipped: SkippedEntry[] }> {
  const copied: Copied[] = [];
  const skipped: SkippedEntry[] = [];
  const planned: FileToCopy[] = [];
  for (const item of items) {
    const source = memberPath(item.source);
    const destination = intoFolder(item.destination, source, join);
    planned.push(...(await memberFiles(sftp, source, destination, { root: destination, member, skipped })));
  }
  const total = planned.reduce((n, f) => n + f.size, 0);
  if (total > maxBytes) {
    throw new FleetError(
      'transfer_too_large',
      `refused to fetch ${total} bytes from member "${member}": above members.maxFetchBytes (${maxBytes}) in config.json; nothing was copied`,
    );
  }
  let done = 0;
  onProgress?.(0, total);
  for (const f of planned) {
    await mkdir(dirname(f.destination), { recursive: true }).catch((e) => {
      throw transferError('cannot create folder', dirname(f.destination), e);
    });
    // The size checked above is the most read: fastGet would otherwise trust the member's
    // fstat answer, which a compromised member can make endless. An empty file needs no read.
    const get =
      f.size === 0
        ? writeFile(f.destination, '')
        : call<void>((cb) => sftp.fastGet(f.source, f.destination, { fileSize: f.size, ...stepOf(onProgress, done, total) }, (err) => cb(err, undefined)));
    await get.catch((e) => {
      throw transferError('cannot fetch', `${f.source} to ${f.destination}`, e);
    });
    done += f.size;
    onProgress?.(done, total);
    await chmod(f.destination, f.mode).catch(() => undefined);
    copied.push({ from: f.source, to: f.destination, bytes: f.size, sha256: await sha256OfFile(f.destination) });
  }
  return { copied, skipped };
}
