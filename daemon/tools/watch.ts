import type { ToolRegistry } from '../mcp/tool-registry.js';
import { z } from 'zod';
import { MemberName } from '../members/schema.js';
import type { WatchService, WatchView } from '../watch/service.js';
import { guarded, ok } from './result.js';

const Glob = z.string().min(1).max(256).regex(/^[^\n\0]+$/, 'a glob is one line');
const WatchId = z.string().regex(/^w-[0-9a-f]{12}$/).describe('watch id, as watch_files returned it (w-...)');

/** One line per watch. */
function line(w: WatchView): string {
  return `${w.id} ${w.member}:${w.path} ${w.method}${w.requested !== 'auto' ? ` (asked ${w.requested})` : ''} ${w.state}, ${w.files} file(s)${w.lastError ? `: ${w.lastError}` : ''}`;
}

/** MCP tools for file watches: watch_files, unwatch_files, list_watches. */
export function watchTools(server: ToolRegistry, service: WatchService): void {
  server.registerTool(
    'watch_files',
    {
      title: 'Watch files on a member',
      description:
        'Watches a file or folder on a member; every change arrives as a file.changed event {member, path, change: created|modified|deleted}, debounced (a burst of writes to one file is a few events). ' +
        'Uses inotifywait on the member when it is installed, else polls (find snapshots every watch.pollInterval). The watch is kept across fleetd restarts and member reconnects; what changed meanwhile is told once.',
      inputSchema: {
        member: MemberName,
        path: z.string().min(1).max(4096).regex(/^[^\n\0]+$/, 'a path is one line').describe('file or folder on the member; relative paths are under its home folder'),
        recursive: z.boolean().optional().describe('watch sub-folders too (default true)'),
        include: z.array(Glob).max(32).optional().describe('report only paths matching one of these globs (* any run of characters; without / a glob matches the file name)'),
        exclude: z.array(Glob).max(32).optional().describe('never report paths matching these globs'),
        method: z.enum(['auto', 'inotify', 'poll']).optional().describe('auto (default): inotify when the member has inotifywait, else poll'),
      },
    },
    (args) =>
      guarded(async () => {
        const watch = await service.add(args);
        return ok(`Watching ${watch.member}:${watch.path} (${watch.method}${watch.state === 'running' ? '' : `, ${watch.state}: starts when the member is online`}) as ${watch.id}.`, { watch });
      }),
  );

  server.registerTool(
    'unwatch_files',
    { title: 'Stop a file watch', description: 'Stops a watch and forgets its snapshot.', inputSchema: { watch_id: WatchId } },
    (args) => guarded(() => ok(`Watch ${args.watch_id} stopped.`, { watch: service.remove(args.watch_id) })),
  );

  server.registerTool(
    'list_watches',
    {
      title: 'List file watches',
      description: 'File watches, optionally of one member: path, the method each uses now (inotify or poll), state, files in its snapshot, last error.',
      inputSchema: { member: MemberName.optional() },
    },
    (args) =>
      guarded(() => {
        const watches = service.list(args.member);
        return ok(watches.length ? `${watches.length} watch(es):\n${watches.map(line).join('\n')}` : 'No watches.', { watches });
      }),
  );
}
