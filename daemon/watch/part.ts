import type { FleetPart, PartDeps } from '../context.js';
import { watchTools } from '../tools/watch.js';
import { WatchService } from './service.js';

declare module '../services.js' {
  interface FleetServices {
    /** File watches on members: watch, unwatch, list. */
    watch: WatchService;
  }
}

/** The file-watch feature: file.changed events for paths on members, across restarts and reconnects. */
export function watchPart({ ctx, services }: PartDeps): FleetPart {
  const members = services.get('members');
  const c = ctx.config.watch;
  const service = new WatchService(ctx, members, {
    pollMs: c.pollInterval,
    debounceMs: c.debounce,
    maxDelayMs: Math.max(c.debounce, c.maxDelay),
    maxFiles: c.maxFiles,
    maxWatches: c.maxWatches,
    // A listing read through a pooled shell must fit its output cap (members.outputLimit).
    inlineBytes: Math.min(48 * 1024, Math.floor(members.settings.outputLimit / 2)),
    readyTimeoutMs: 15_000,
    aliveSeconds: 10,
  });
  return {
    name: 'watch',
    provides: { watch: service },
    instructions:
      'File watches: watch_files watches a path on a member (inotify when the member has inotifywait, else polling) and each change arrives as a file.changed event (created, modified, deleted; bursts coalesced), also after a restart or reconnect; ' +
      'list_watches lists them with the method each uses, unwatch_files stops one.',
    status: () => ({ watch: service.summary() }),
    tools: (server) => watchTools(server, service),
    stop: () => service.stop(),
  };
}
