import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import { FleetError } from '../errors.js';
import type { ChannelSlots } from './channel-slots.js';
import { sha256OfFile } from './checksums.js';
import { intoFolder, memberPath, type TransferItem, type TransferredFile } from './transfer-paths.js';

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

/** A local file or folder as the list of files to send (folders recursively; symlinked folders skipped). */
async function localFiles(source: string, destination: string): Promise<{ source: string; destination: string; mode: number; size: number }[]> {
  const st = await stat(source).catch((e) => {
    throw transferError('cannot read', source, e);
  });
  if (!st.isDirectory()) return [{ source, destination, mode: st.mode & 0o777, size: st.size }];
  const out: { source: string; destination: string; mode: number; size: number }[] = [];
  for (const entry of await readdir(source)) {
    const child = join(source, entry);
    const link = await lstat(child);
    if (link.isSymbolicLink() && (await stat(child).catch(() => undefined))?.isDirectory()) continue;
    out.push(...(await localFiles(child, posix.join(destination, entry))));
  }
  return out;
}

/** Copies local files and folders to a member; returns every file copied with its size and hash. */
export async function sendOverSftp(sftp: SFTPWrapper, items: TransferItem[]): Promise<Copied[]> {
  const made = new Set<string>();
  const copied: Copied[] = [];
  for (const item of items) {
    const destination = memberPath(intoFolder(item.destination, item.source));
    for (const f of await localFiles(item.source, destination)) {
      await ensureMemberDir(sftp, posix.dirname(f.destination), made);
      await call<void>((cb) => sftp.fastPut(f.source, f.destination, { mode: f.mode }, (err) => cb(err, undefined))).catch((e) => {
        throw transferError('cannot write on the member:', f.destination, e);
      });
      copied.push({ from: f.source, to: f.destination, bytes: f.size, sha256: await sha256OfFile(f.source) });
    }
  }
  return copied;
}

/** A member file or folder as the list of files to fetch. */
async function memberFiles(sftp: SFTPWrapper, source: string, destination: string): Promise<{ source: string; destination: string; mode: number; size: number }[]> {
  const st = await call<Stats>((cb) => sftp.stat(source, cb)).catch((e) => {
    throw transferError('cannot read on the member:', source, e);
  });
  if (!st.isDirectory()) return [{ source, destination, mode: st.mode & 0o777, size: st.size }];
  const out: { source: string; destination: string; mode: number; size: number }[] = [];
  const entries = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(source, cb));
  for (const e of entries.sort((a, b) => a.filename.localeCompare(b.filename))) {
    if (e.filename === '.' || e.filename === '..' || e.attrs.isSymbolicLink()) continue;
    out.push(...(await memberFiles(sftp, posix.join(source, e.filename), join(destination, e.filename))));
  }
  return out;
}

/** Copies member files and folders here; returns every file copied with its size and hash. */
export async function fetchOverSftp(sftp: SFTPWrapper, items: TransferItem[]): Promise<Copied[]> {
  const copied: Copied[] = [];
  for (const item of items) {
    const source = memberPath(item.source);
    const destination = intoFolder(item.destination, source, join);
    for (const f of await memberFiles(sftp, source, destination)) {
      await mkdir(dirname(f.destination), { recursive: true }).catch((e) => {
        throw transferError('cannot create folder', dirname(f.destination), e);
      });
      await call<void>((cb) => sftp.fastGet(f.source, f.destination, {}, (err) => cb(err, undefined))).catch((e) => {
        throw transferError('cannot fetch', `${f.source} to ${f.destination}`, e);
      });
      await chmod(f.destination, f.mode).catch(() => undefined);
      copied.push({ from: f.source, to: f.destination, bytes: f.size, sha256: await sha256OfFile(f.destination) });
    }
  }
  return copied;
}
