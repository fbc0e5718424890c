/** When to cut off a GET stream's client (config mcp.maxUnreadBytes / mcp.slowClientTimeout). */
export interface SlowClientLimit {
  maxUnreadBytes: number;
  timeoutMs: number;
}

/** Told when a relayed stream opens and when it ends (for any reason), once each. */
export interface RelayHooks {
  opened(): void;
  closed(): void;
}

/**
 * Relays an SDK stream to the client: prepends `head`, tells `hooks` when it opens and
 * ends, and bounds memory. The SDK enqueues
 * without backpressure, so this drains it into a counted buffer and cuts the client off
 * when more than `maxUnreadBytes` stay unread for `timeoutMs` (a big replay to a live
 * reader drains in far less); the client resumes (Last-Event-ID and the message store in
 * 2025-11-25; listen again and read from its cursor in 2026-07-28) and misses nothing.
 */
export function boundedRelay(body: ReadableStream<Uint8Array>, hooks: RelayHooks, head: Uint8Array | undefined, limit: SlowClientLimit, cutOff: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const buffer: Uint8Array[] = head ? [head] : [];
  let unread = head?.byteLength ?? 0;
  let ended = false;
  let wake: (() => void) | undefined;
  let open = true;
  let stallTimer: NodeJS.Timeout | undefined;
  const done = () => {
    if (open) {
      open = false;
      clearTimeout(stallTimer);
      hooks.closed();
    }
  };
  hooks.opened();
  const cutIfStillBehind = () => {
    stallTimer = undefined;
    if (!open || unread <= limit.maxUnreadBytes) return;
    done();
    void reader.cancel('client stopped reading');
    cutOff();
  };
  void (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (!open) return;
      if (r.done) {
        ended = true;
      } else {
        buffer.push(r.value);
        unread += r.value.byteLength;
        if (unread > limit.maxUnreadBytes && !stallTimer) stallTimer = setTimeout(cutIfStillBehind, limit.timeoutMs).unref();
      }
      wake?.();
      if (ended) return;
    }
  })();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (buffer.length === 0 && !ended && open) await new Promise<void>((r) => (wake = r));
      const chunk = buffer.shift();
      if (chunk) {
        unread -= chunk.byteLength;
        if (unread <= limit.maxUnreadBytes && stallTimer) {
          clearTimeout(stallTimer); // caught up
          stallTimer = undefined;
        }
        controller.enqueue(chunk);
      } else {
        done();
        controller.close();
      }
    },
    cancel(reason) {
      done();
      wake?.();
      return reader.cancel(reason);
    },
  });
}
