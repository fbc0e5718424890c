/** A byte range of a task's stream as monitor_task and `fleetctl tasks tail` get it. */
export interface OutputRange {
  stream: 'stdout' | 'stderr';
  offset: number;
  /** Bytes of the stream this text covers: continue at nextOffset = offset + bytes. */
  bytes: number;
  nextOffset: number;
  /** The stream's size when it was read. */
  size: number;
  text: string;
}

/** Bytes at the end of `buf` that start a UTF-8 character not complete in it. */
function partialCharBytes(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Turns the range script's answer (size line, then base64) into text a reader can resume from.
 * Where more follows, the chunk ends after its last newline (else after its last whole
 * character), so neither a character nor a secret on one line is cut in two, which would
 * garble it or let it pass the redactor in halves. At the end of a stream still being
 * written only a partial character is held back; once the task ended, everything is given.
 */
export function decodeRange(stdout: string, req: { stream: 'stdout' | 'stderr'; offset: number; length: number }, ended: boolean): OutputRange {
  const nl = stdout.indexOf('\n');
  const size = Number(stdout.slice(0, nl < 0 ? undefined : nl).trim()) || 0;
  let buf = Buffer.from(nl < 0 ? '' : stdout.slice(nl + 1), 'base64');
  const more = req.offset + buf.length < size;
  if (more) {
    const lastNl = buf.lastIndexOf(0x0a);
    const cut = lastNl >= 0 ? lastNl + 1 : buf.length - partialCharBytes(buf);
    // (A range too short for one whole character is given as it is: the reader must move on.)
    if (cut > 0) buf = buf.subarray(0, cut);
  } else if (!ended) {
    buf = buf.subarray(0, buf.length - partialCharBytes(buf));
  }
  return { stream: req.stream, offset: req.offset, bytes: buf.length, nextOffset: req.offset + buf.length, size, text: buf.toString('utf8') };
}
