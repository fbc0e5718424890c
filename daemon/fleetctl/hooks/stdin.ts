/** What every Claude Code hook receives on stdin (the fields fleet reads). */
export interface HookInput {
  session_id: string;
  hook_event_name?: string;
  cwd?: string;
  transcript_path?: string;
  source?: string;
  prompt?: string;
  tool_name?: string;
  /** PostToolUse: the tool's arguments and what it returned. */
  tool_input?: unknown;
  tool_response?: unknown;
  stop_hook_active?: boolean;
}

const MAX_STDIN = 4 * 1024 * 1024;

/** Reads and checks the hook's stdin JSON; rejects with a reason when it is missing or malformed. */
export function readHookInput(timeoutMs: number): Promise<HookInput> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) return reject(new Error('stdin is a terminal: a hook reads Claude Code\'s JSON on stdin'));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(new Error(`no end of stdin within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      process.stdin.removeAllListeners();
      process.stdin.pause();
      if (err) return reject(err);
      let v: unknown;
      try {
        v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reject(new Error('stdin is not JSON'));
      }
      const id = (v as { session_id?: unknown } | null)?.session_id;
      if (typeof id !== 'string' || id === '') return reject(new Error('stdin JSON has no session_id'));
      resolve(v as HookInput);
    };
    process.stdin.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_STDIN) return finish(new Error(`stdin is over ${MAX_STDIN} bytes`));
      chunks.push(d);
    });
    process.stdin.on('end', () => finish());
    process.stdin.on('error', (e) => finish(e));
  });
}
