import type { Redactor } from './redactor.js';

type Write = NodeJS.WriteStream['write'];

/**
 * Runs everything written to a stream (fleetd's stderr: console.error, warnings, its own log
 * lines; stdout) through the redactor, so a stored value that reaches a log line by any path
 * shows as `[REDACTED:NAME]`. Returns a function that puts the stream's own write back.
 * A value split across two writes is not caught: log lines are written whole.
 */
export function redactOutput(stream: NodeJS.WriteStream, redactor: Redactor): () => void {
  const original = stream.write;
  const wrapped = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    let out = chunk;
    const encoding = typeof rest[0] === 'string' ? rest[0].toLowerCase() : 'utf8';
    if (redactor.size > 0 && (encoding === 'utf8' || encoding === 'utf-8')) {
      if (typeof chunk === 'string') out = redactor.redact(chunk);
      else if (chunk instanceof Uint8Array) {
        const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
        const redacted = redactor.redact(text);
        if (redacted !== text) out = Buffer.from(redacted, 'utf8');
      }
    }
    return (original as (...a: unknown[]) => boolean).call(stream, out, ...rest);
  } as Write;
  stream.write = wrapped;
  return () => {
    if (stream.write === wrapped) stream.write = original;
  };
}
