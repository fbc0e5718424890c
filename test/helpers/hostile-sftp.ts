import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

/** What a hostile listing claims an entry is. */
export type HostileKind = 'file' | 'dir' | 'symlink';

/** One entry a hostile folder listing returns, name exactly as sent. */
export interface HostileEntry {
  name: string;
  kind: HostileKind;
}

const MODES: Record<HostileKind, number> = { file: constants.S_IFREG | 0o644, dir: constants.S_IFDIR | 0o755, symlink: constants.S_IFLNK | 0o777 };

/**
 * A compromised member for tests: an SSH server (ssh2's server API, a fresh host key, any
 * client key accepted) whose SFTP subsystem lists whatever `listings` says for a folder
 * (names like "../../x" included, sent as they are) and serves `content` for any other path.
 * Commands (fleetd's shells and checksums) run under /bin/sh on this machine, like a real member.
 */
export class HostileSftp {
  /** Folder path (as the client asks for it) → the entries its listing returns. */
  listings = new Map<string, HostileEntry[]>();
  content = Buffer.from('written by a hostile member\n');
  /** A lie about every file's size in listings and STAT answers (undefined: the real content length). */
  claimedSize: number | undefined;
  /** A lie told only to FSTAT on an open file, with content served endlessly up to it (an endless file). */
  fstatSize: number | undefined;
  /** Every SFTP request seen, as "OPEN /path" and the like. */
  readonly requests: string[] = [];
  port = 0;
  private readonly server: InstanceType<typeof Server>;
  private readonly clients = new Set<Connection>();

  private constructor() {
    const hostKey = utils.generateKeyPairSync('ed25519').private;
    this.server = new Server({ hostKeys: [hostKey] }, (client) => {
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => ctx.accept());
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('env', (ok) => ok?.());
          session.on('exec', (ok, _no, info) => {
            const channel = ok();
            const child = spawn('/bin/sh', ['-c', info.command], { stdio: ['pipe', 'pipe', 'pipe'] });
            channel.pipe(child.stdin).on('error', () => undefined);
            child.stdout.pipe(channel, { end: false });
            child.stderr.pipe(channel.stderr, { end: false });
            channel.on('close', () => child.kill('SIGKILL'));
            child.on('close', (code) => {
              channel.exit(code ?? 255);
              channel.end();
            });
          });
          session.on('sftp', (ok) => this.serve(ok()));
        });
      });
    });
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  static async start(): Promise<HostileSftp> {
    const h = new HostileSftp();
    await new Promise<void>((resolve) => h.server.listen(0, '127.0.0.1', () => resolve()));
    h.port = (h.server.address() as AddressInfo).port;
    return h;
  }

  private attrsOf(path: string) {
    const kind: HostileKind = this.listings.has(path) ? 'dir' : 'file';
    const now = Math.floor(Date.now() / 1000);
    return { mode: MODES[kind], uid: 0, gid: 0, size: kind === 'file' ? (this.claimedSize ?? this.content.length) : 4096, atime: now, mtime: now };
  }

  private serve(sftp: SFTPWrapper): void {
    const handles = new Map<number, { path: string; listed: boolean }>();
    let next = 0;
    const open = (reqid: number, path: string) => {
      const id = next++;
      handles.set(id, { path, listed: false });
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(id);
      sftp.handle(reqid, buf);
    };
    const handleOf = (b: Buffer) => handles.get(b.readUInt32BE(0));
    sftp.on('REALPATH', (reqid, path) => {
      this.requests.push(`REALPATH ${path}`);
      sftp.name(reqid, [{ filename: path === '.' ? '/' : path, longname: path, attrs: this.attrsOf(path) }]);
    });
    for (const op of ['STAT', 'LSTAT'] as const) {
      sftp.on(op, (reqid, path) => {
        this.requests.push(`${op} ${path}`);
        sftp.attrs(reqid, this.attrsOf(path));
      });
    }
    sftp.on('FSTAT', (reqid, handle) => {
      const h = handleOf(handle);
      if (!h) return void sftp.status(reqid, STATUS_CODE.FAILURE);
      sftp.attrs(reqid, this.fstatSize === undefined ? this.attrsOf(h.path) : { ...this.attrsOf(h.path), size: this.fstatSize });
    });
    sftp.on('OPENDIR', (reqid, path) => {
      this.requests.push(`OPENDIR ${path}`);
      if (!this.listings.has(path)) return void sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
      open(reqid, path);
    });
    sftp.on('READDIR', (reqid, handle) => {
      const h = handleOf(handle);
      if (!h) return void sftp.status(reqid, STATUS_CODE.FAILURE);
      if (h.listed) return void sftp.status(reqid, STATUS_CODE.EOF);
      h.listed = true;
      const now = Math.floor(Date.now() / 1000);
      sftp.name(
        reqid,
        (this.listings.get(h.path) ?? []).map((e) => ({
          filename: e.name,
          longname: e.name,
          attrs: { mode: MODES[e.kind], uid: 0, gid: 0, size: e.kind === 'file' ? (this.claimedSize ?? this.content.length) : 4096, atime: now, mtime: now },
        })),
      );
    });
    sftp.on('OPEN', (reqid, path) => {
      this.requests.push(`OPEN ${path}`);
      open(reqid, path);
    });
    sftp.on('READ', (reqid, handle, offset, length) => {
      if (!handleOf(handle)) return void sftp.status(reqid, STATUS_CODE.FAILURE);
      if (this.fstatSize !== undefined) {
        // An endless file: the same bytes again and again, as far as the client asks.
        if (offset >= this.fstatSize) return void sftp.status(reqid, STATUS_CODE.EOF);
        return void sftp.data(reqid, Buffer.alloc(Math.min(length, this.fstatSize - offset), this.content[0]));
      }
      if (offset >= this.content.length) return void sftp.status(reqid, STATUS_CODE.EOF);
      sftp.data(reqid, this.content.subarray(offset, offset + length));
    });
    sftp.on('CLOSE', (reqid, handle) => {
      handles.delete(handle.readUInt32BE(0));
      sftp.status(reqid, STATUS_CODE.OK);
    });
  }

  /** Closes the listener and every connection. */
  async dispose(): Promise<void> {
    for (const c of this.clients) c.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
