import type { MemberRuntime, MemberStream } from '../members/runtime.js';
import { TASK_ID, watcherScript } from './scripts.js';

/** What a watcher reports: an exit line, and when it is following (again) or lost. */
export interface WatcherEvents {
  onExit: (member: string, id: string, code: number) => void;
  /** The watcher follows exit.log now: whatever ended before must be polled for. */
  onReady: (member: string) => void;
}

/**
 * One long-lived channel per member running `tail -F` on the member's exit.log: every task
 * wrapper appends its exit line there, so fleetd hears of an exit the moment it happens.
 * When the channel drops it is down until `ensure` opens it again (member back online).
 */
export class MemberWatcher {
  private stream: MemberStream | undefined;
  private opening = false;
  private ready = false;
  private buffer = '';
  private closed = false;

  constructor(
    readonly member: string,
    private readonly root: string,
    private readonly events: WatcherEvents,
  ) {}

  /** True while exit lines are being followed. */
  get up(): boolean {
    return this.ready;
  }

  /** Opens the channel if it is not open (or opening). */
  ensure(runtime: MemberRuntime): void {
    if (this.closed || this.stream || this.opening) return;
    this.opening = true;
    this.buffer = '';
    runtime
      .openStream(watcherScript(this.root), { onData: (d) => this.onData(d), onClose: () => this.onClose() })
      .then(
        (s) => {
          this.opening = false;
          if (this.closed) s.close();
          else this.stream = s;
        },
        () => {
          this.opening = false;
        },
      );
  }

  private onData(chunk: Buffer): void {
    this.buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!this.ready) {
        if (line.startsWith('ready')) {
          this.ready = true;
          this.events.onReady(this.member);
        }
        continue;
      }
      // "<id> <code>" (wrappers of earlier versions appended more fields: ignored).
      const [id, code] = line.split(' ');
      if (id && TASK_ID.test(id) && /^\d+$/.test(code ?? '')) this.events.onExit(this.member, id, Number(code));
    }
    if (this.buffer.length > 64 * 1024) this.buffer = '';
  }

  private onClose(): void {
    this.ready = false;
    this.stream = undefined;
  }

  stop(): void {
    this.closed = true;
    this.stream?.close();
  }
}
