/**
 * Collects a command's output up to a byte limit, keeping the beginning and the end (where
 * errors usually are) and counting what was dropped in between.
 */
export class CappedOutput {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  /** Every byte seen, kept or not. */
  total = 0;

  /** `listener` sees every chunk as it comes, kept or not (fleetctl exec streams it live). */
  constructor(
    limit: number,
    private readonly listener?: (chunk: Buffer, held?: boolean) => void,
  ) {
    this.headLimit = Math.ceil(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  /** Adds a chunk of output. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.listener?.(chunk);
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLen < this.headLimit) {
      const take = Math.min(rest.length, this.headLimit - this.headLen);
      this.head.push(Buffer.from(rest.subarray(0, take)));
      this.headLen += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.tailLimit === 0) return;
    this.tail.push(Buffer.from(rest.subarray(Math.max(0, rest.length - this.tailLimit))));
    this.tailLen += Math.min(rest.length, this.tailLimit);
    while (this.tailLen - this.tail[0]!.length >= this.tailLimit) this.tailLen -= this.tail.shift()!.length;
  }

  /**
   * Bytes a framed shell holds back because they may begin its end marker (a newline first):
   * not output yet, but they tell a live listener the current line has ended either way.
   */
  held(bytes: Buffer): void {
    this.listener?.(bytes, true);
  }

  /** Bytes dropped from the middle. */
  get truncatedBytes(): number {
    return this.total - this.headLen - Math.min(this.tailLen, this.tailLimit);
  }

  /** The kept output as text, with a note where bytes were dropped. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailLimit) tail = tail.subarray(tail.length - this.tailLimit);
    const dropped = this.truncatedBytes;
    if (dropped <= 0) return head + tail.toString('utf8');
    return `${head}\n[... fleetd dropped ${dropped} bytes of output here (limit ${this.headLimit + this.tailLimit} bytes; see members.outputLimit) ...]\n${tail.toString('utf8')}`;
  }
}
