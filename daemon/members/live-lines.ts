import { StringDecoder } from 'node:string_decoder';
import type { OutputListener } from './runtime.js';

/** One whole line of a member's output (with its newline; the last one may lack it), secrets redacted. */
export type LiveLine = (stream: 'stdout' | 'stderr', text: string) => void;

/** A line longer than this is passed on in pieces, so a command printing no newline still streams. */
const MAX_LINE = 64 * 1024;

interface StreamState {
  dec: StringDecoder;
  buf: string;
  /** A newline was passed on early (the shell held it back as maybe its marker's): drop it when it comes. */
  owed: boolean;
}

/**
 * Cuts a command's output into whole lines as it comes and passes each on redacted. Whole
 * lines, because a secret split across two chunks would slip past redaction chunk by chunk;
 * `end()` passes on what is left without a newline. A pooled shell holds back a newline that
 * may begin its end marker: either way the line has ended, so it is passed on at once and the
 * newline, when it does come, is not counted twice.
 */
export function liveLines(redact: (text: string) => string, onLine: LiveLine): { listener: OutputListener; end(): void } {
  const fresh = (): StreamState => ({ dec: new StringDecoder('utf8'), buf: '', owed: false });
  const state = { stdout: fresh(), stderr: fresh() };
  const emit = (stream: 'stdout' | 'stderr', final: boolean) => {
    const s = state[stream];
    let nl: number;
    while ((nl = s.buf.indexOf('\n')) >= 0 || s.buf.length > MAX_LINE) {
      const cut = nl >= 0 ? nl + 1 : MAX_LINE;
      onLine(stream, redact(s.buf.slice(0, cut)));
      s.buf = s.buf.slice(cut);
    }
    if (final && s.buf) {
      onLine(stream, redact(s.buf));
      s.buf = '';
    }
  };
  return {
    listener: (stream, chunk, held) => {
      const s = state[stream];
      if (held) {
        if (s.owed) return;
        s.owed = true;
        s.buf += `${s.dec.write(Buffer.alloc(0))}\n`;
        return emit(stream, false);
      }
      let text = s.dec.write(chunk);
      if (s.owed && text) {
        s.owed = false;
        if (text.startsWith('\n')) text = text.slice(1);
      }
      s.buf += text;
      emit(stream, false);
    },
    end: () => {
      for (const stream of ['stdout', 'stderr'] as const) {
        state[stream].buf += state[stream].dec.end();
        emit(stream, true);
      }
    },
  };
}
