import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Client } from 'ssh2';
import { FleetError } from '../errors.js';
import { ChannelSlots } from './channel-slots.js';
import { runOnOwnChannel } from './own-channel.js';
import { remoteSha256 } from './checksums.js';
import { addressOf, MemberLink, type MemberSecrets } from './connection.js';
import type { CommandSpec } from './framing.js';
import type { HostKeyStore } from './host-keys.js';
import type { LinkFailure, Transition } from './liveness.js';
import type { MemberRecord, StoredLiveness } from './registry.js';
import { toOutcome, type CommandOutcome, type MemberRuntime, type RunOptions, type MemberStream, type RuntimeState, type StreamHandlers } from './runtime.js';
import type { MemberSettings } from './settings.js';
import { fetchOverSftp, sendOverSftp, withSftp, type TransferProgress } from './sftp.js';
import { DriverClosedError, openExecChannel } from './shell-driver.js';
import { QueueTimeoutError, ShellPool } from './shell-pool.js';
import { SftpTailReader } from './tail-reader.js';
import type { TransferItem, TransferOutcome } from './transfer-paths.js';

/** One live connection's channels: the slot count, and the shells running short commands. */
interface Session {
  client: Client;
  slots: ChannelSlots;
  pool: ShellPool;
  tails: SftpTailReader;
  /** Settles when this connection is gone. */
  lost: Promise<LinkFailure>;
}

/** Hashing a big file on the member can take a while; this bounds it without cutting it short. */
const CHECKSUM_TIMEOUT_MS = 10 * 60_000;

/** A member reached over SSH: one pooled connection, shells for short commands, SFTP for files. */
export class SshMember implements MemberRuntime {
  readonly link: MemberLink;
  private session: Session | undefined;

  constructor(
    record: MemberRecord,
    stored: StoredLiveness,
    private readonly settings: MemberSettings,
    hostKeys: HostKeyStore,
    onTransition: (t: Transition, m: SshMember) => void,
    secrets?: MemberSecrets,
  ) {
    this.link = new MemberLink(
      record,
      stored,
      settings.link,
      hostKeys,
      {
        onTransition: (t) => onTransition(t, this),
        onConnected: (client, lost) => this.attach(client, lost),
      },
      secrets,
    );
  }

  get name(): string {
    return this.link.record.name;
  }

  start(): void {
    this.link.start();
  }

  settled(): Promise<void> {
    return this.link.ready().then(
      () => undefined,
      () => undefined,
    );
  }

  /** New connection: fresh channel slots and shells; when it ends, everything on it fails with why. */
  private attach(client: Client, lost: Promise<LinkFailure>): void {
    const slots = new ChannelSlots(this.settings.channels);
    const pool = new ShellPool(client, slots, this.settings.pool);
    const session: Session = { client, slots, pool, tails: new SftpTailReader(client, slots), lost };
    this.session = session;
    pool.warm();
    void lost.then((failure) => {
      const err = this.lostError(failure);
      pool.close(err);
      session.tails.close();
      slots.close(err);
      if (this.session === session) this.session = undefined;
    });
  }

  private lostError(failure: LinkFailure | undefined, startedAt?: number): FleetError {
    const after = startedAt === undefined ? '' : ` ${((performance.now() - startedAt) / 1000).toFixed(1)} s into the work`;
    return new FleetError(
      'member_lost',
      `lost the connection to member "${this.name}"${after}: ${failure?.message ?? 'connection closed'}. Whatever was running may or may not have finished there.`,
      502,
    );
  }

  private async current(): Promise<Session> {
    const client = await this.link.ready();
    if (this.session?.client === client) return this.session;
    throw this.lostError(this.link.lastLoss);
  }

  /** Maps a failure of work on a session to the member-level error a caller should see. */
  private async explain(e: unknown, s: Session, startedAt: number): Promise<unknown> {
    if (e instanceof FleetError && e.code !== 'member_lost') return e;
    // The channel's close can arrive a moment before the connection's own: let it land.
    await nextTurn();
    if (this.link.client !== s.client || (e instanceof FleetError && e.code === 'member_lost')) return this.lostError(this.link.lastLoss, startedAt);
    if (e instanceof QueueTimeoutError) return new FleetError('member_busy', `member "${this.name}": ${e.message} (every channel was busy; raise timeout_s or members.shellChannels)`, 503);
    if (e instanceof DriverClosedError) {
      return new FleetError('shell_exited', `the shell running the command on "${this.name}" exited before the command finished (did the command kill its parent shell?)`, 502);
    }
    return new FleetError('member_error', `member "${this.name}": ${(e as Error).message}`, 502);
  }

  async run(spec: CommandSpec, opts: RunOptions): Promise<CommandOutcome> {
    const startedAt = performance.now();
    const s = await this.current();
    try {
      // Work expected to run long gets its own channel rather than holding a pooled shell.
      const r =
        opts.timeoutMs > this.settings.longCommandMs
          ? await runOnOwnChannel(s.client, s.slots, spec, { ...opts, outputLimit: this.settings.outputLimit, killGraceMs: this.settings.pool.killGraceMs, openTimeoutMs: this.settings.pool.openTimeoutMs })
          : await s.pool.run(spec, opts);
      return toOutcome(r, startedAt);
    } catch (e) {
      throw await this.explain(e, s, startedAt);
    }
  }

  async readTails(paths: string[], bytes: number): Promise<string[]> {
    const s = await this.current();
    return s.tails.tails(paths, bytes);
  }

  /** A long-lived command on a channel of its own, holding one channel slot until it ends. */
  async openStream(command: string, handlers: StreamHandlers): Promise<MemberStream> {
    const s = await this.current();
    await s.slots.acquire();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      s.slots.release();
      handlers.onClose();
    };
    try {
      const ch = await openExecChannel(s.client, command, this.settings.pool.openTimeoutMs, (c) => {
        c.on('data', (d: Buffer) => handlers.onData(d));
        c.stderr.on('data', () => undefined);
        c.on('error', () => undefined);
        c.on('close', release);
      });
      // A dropped connection does not always close its channels: the stream ends with it.
      void s.lost.then(release);
      ch.end();
      return {
        close: () => {
          try {
            ch.close();
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if (!released) {
        released = true;
        s.slots.release();
      }
      throw e;
    }
  }

  /** Runs a helper command on a pooled shell (however long it may take) and returns its stdout. */
  private async runText(command: string): Promise<string> {
    const startedAt = performance.now();
    const s = await this.current();
    try {
      return (await s.pool.run({ command }, { timeoutMs: CHECKSUM_TIMEOUT_MS })).stdout.text();
    } catch (e) {
      throw await this.explain(e, s, startedAt);
    }
  }

  private async transfer(direction: 'send' | 'fetch', items: TransferItem[], onProgress?: TransferProgress): Promise<TransferOutcome> {
    const startedAt = performance.now();
    const s = await this.current();
    let copied, skipped;
    try {
      ({ copied, skipped } = await withSftp(s.client, s.slots, this.settings.pool.openTimeoutMs, (sftp) => (direction === 'send' ? sendOverSftp(sftp, items, onProgress) : fetchOverSftp(sftp, items, this.name, this.settings.maxFetchBytes, onProgress))));
    } catch (e) {
      throw await this.explain(e, s, startedAt);
    }
    // The member hashes its side: a match proves the bytes arrived (or left) intact.
    const memberSide = copied.map((f) => (direction === 'send' ? f.to : f.from));
    const digests = copied.length ? await remoteSha256((c) => this.runText(c), memberSide) : [];
    return { files: copied.map((f, i) => ({ ...f, verified: digests[i] === f.sha256 })), skipped };
  }

  send(items: TransferItem[], onProgress?: TransferProgress): Promise<TransferOutcome> {
    return this.transfer('send', items, onProgress);
  }

  fetch(items: TransferItem[], onProgress?: TransferProgress): Promise<TransferOutcome> {
    return this.transfer('fetch', items, onProgress);
  }

  state(): RuntimeState {
    const l = this.link.liveness;
    const s = this.session;
    const pool = s?.pool.stats();
    return {
      state: l.state === 'unknown' && this.link.connecting ? 'connecting' : l.state,
      ...(l.reason ? { reason: l.reason } : {}),
      ...(l.since ? { since: l.since } : {}),
      ...(l.lastError && l.state !== 'online' ? { lastError: l.lastError } : {}),
      ...(this.link.connecting ? { connecting: true } : {}),
      ...(this.link.nextAttemptAt ? { nextAttemptAt: new Date(this.link.nextAttemptAt).toISOString() } : {}),
      ...(this.link.client && this.link.connectedAt ? { connectedAt: new Date(this.link.connectedAt).toISOString() } : {}),
      ...(this.link.hostKey ? { hostKey: { type: this.link.hostKey.type, fingerprint: this.link.hostKey.fingerprint, firstUse: this.link.hostKeyFirstUse } } : {}),
      ...(s && pool ? { channels: { open: s.slots.inUse, capacity: s.slots.capacity, ...pool } } : {}),
    };
  }

  /** Where the member is, for messages. */
  get address(): string {
    return addressOf(this.link.record);
  }

  stop(): void {
    this.link.stop();
  }
}
