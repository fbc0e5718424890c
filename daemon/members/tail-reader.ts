import type { Client, SFTPWrapper, Stats } from 'ssh2';
import type { ChannelSlots } from './channel-slots.js';

function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** A tail read the member did not answer in time (its SFTP session was given up). */
export class TailsTimeoutError extends Error {}

/** How long a tail read may take before its session is given up: past it, the output is not worth the wait. */
const READ_DEADLINE_MS = 1000;

/**
 * Reads the ends of member files over one SFTP session kept open for the connection: no
 * process is started on the member per read (a fork there costs tens of ms on a busy host),
 * which is what keeps a task's end → its event fast. Relative paths are under the login's home.
 */
export class SftpTailReader {
  private sftp: Promise<SFTPWrapper> | undefined;
  /**
   * A session given up on a stuck read: its channel stays open until the member's side
   * returns (sshd waits for it), so no new one is opened meanwhile; each would hold a channel.
   */
  private stuck: SFTPWrapper | undefined;

  constructor(
    private readonly client: Client,
    private readonly slots: ChannelSlots,
  ) {}

  private session(): Promise<SFTPWrapper> {
    if (!this.sftp) {
      const opening = (async () => {
        await this.slots.acquire();
        try {
          const s = await call<SFTPWrapper>((cb) => this.client.sftp(cb));
          s.on('close', () => {
            this.slots.release();
            if (this.stuck === s) this.stuck = undefined;
            if (this.sftp === opening) this.sftp = undefined;
          });
          return s;
        } catch (e) {
          this.slots.release();
          throw e;
        }
      })();
      this.sftp = opening;
      opening.catch(() => {
        if (this.sftp === opening) this.sftp = undefined;
      });
    }
    return this.sftp;
  }

  /**
   * The last `bytes` of each file ('' for a file that is not there); an empty list just opens
   * the session ahead of need. Rejects with TailsTimeoutError past the deadline (waiting for a
   * channel to open the session on counts too), and at once while a given-up session is not closed.
   */
  async tails(paths: string[], bytes: number): Promise<string[]> {
    if (this.stuck) throw new TailsTimeoutError('the member has not answered an earlier tail read yet');
    const opening = this.session();
    if (paths.length === 0) return opening.then(() => []);
    let sftp: SFTPWrapper | undefined;
    let timer: NodeJS.Timeout | undefined;
    // The session answers in order: one read stuck (a FIFO, a hung disk) holds up every later
    // one, so past the deadline an open session is closed, and once it is, the next read opens
    // a fresh one.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (sftp) {
          if (this.sftp === opening) this.sftp = undefined;
          this.stuck = sftp;
          sftp.end();
        }
        reject(new TailsTimeoutError(`no answer to a tail read within ${READ_DEADLINE_MS} ms`));
      }, READ_DEADLINE_MS);
    });
    const read = opening.then((s) => {
      sftp = s;
      return Promise.all(paths.map((p) => this.tail(s, p, bytes)));
    });
    try {
      return await Promise.race([read, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** open and stat go out together (one round trip on a busy member, not two); close is not waited for. */
  private async tail(sftp: SFTPWrapper, path: string, bytes: number): Promise<string> {
    const [opened, st] = await Promise.allSettled([call<Buffer>((cb) => sftp.open(path, 'r', cb)), call<Stats>((cb) => sftp.stat(path, cb))]);
    if (opened.status === 'rejected') return '';
    const handle = opened.value;
    try {
      const size = st.status === 'fulfilled' ? st.value.size : (await call<Stats>((cb) => sftp.fstat(handle, cb))).size;
      const length = Math.min(bytes, size);
      if (length <= 0) return '';
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const n = await call<number>((cb) => sftp.read(handle, buf, got, length - got, size - length + got, (err, r) => cb(err, r)));
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got).toString('utf8');
    } finally {
      sftp.close(handle, () => undefined);
    }
  }

  close(): void {
    void this.sftp?.then((s) => s.end(), () => undefined);
    this.sftp = undefined;
  }
}
