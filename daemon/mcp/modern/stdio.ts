import { PassThrough, type Readable } from 'node:stream';
import { InMemoryServerEventBus } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import { VERSION } from '../../../shared/version.js';
import type { FleetContext, FleetPart } from '../../context.js';
import { visibleTo } from '../../tools/events.js';
import { EVENT_ID_META_KEY, touchedUris } from './event-resources.js';
import { buildModernServer } from './server.js';
import { TaskExtension } from './task-extension.js';
import { TaskFrontTransport } from './task-stdio.js';

const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

/** What stdin opened with: the era it asks for, and stdin from its first byte again. */
export interface StdioOpening {
  modern: boolean;
  input: Readable;
  /** stdin ended before a whole first message. */
  ended: boolean;
}

/**
 * Reads stdin up to the end of its first message and tells which era it opens: a message
 * carrying 2026-07-28 `_meta` (server/discover, or any request) is modern; anything else
 * (initialize) keeps the 2025-11-25 session. The bytes read are put back in front.
 */
export function readOpening(stdin: Readable): Promise<StdioOpening> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(0x0a);
      if (nl < 0) return;
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve({ modern: isModern(all.subarray(0, nl).toString('utf8')), input: replay(stdin, all), ended: false });
    };
    const onEnd = () => {
      stdin.off('data', onData);
      resolve({ modern: false, input: replay(stdin, Buffer.concat(chunks)), ended: true });
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
  });
}

function isModern(line: string): boolean {
  try {
    const m = JSON.parse(line) as { params?: { _meta?: Record<string, unknown> } };
    return typeof m?.params?._meta?.[VERSION_KEY] === 'string';
  } catch {
    return false;
  }
}

function replay(stdin: Readable, head: Buffer): Readable {
  const out = new PassThrough();
  out.write(head);
  stdin.pipe(out);
  stdin.resume();
  return out;
}

/**
 * Serves MCP 2026-07-28 on stdin/stdout with the SDK's stdio entry: one long-lived server
 * with the tools and event resources, and each committed event sent as
 * notifications/resources/updated to the listen subscriptions whose resources it touches.
 * The tasks extension is served in front of it, as on HTTP /mcp.
 */
export function serveModernStdio(ctx: FleetContext, parts: FleetPart[], input: Readable): StdioServerHandle {
  const offs: (() => void)[] = [];
  const stdio = new StdioServerTransport(input, process.stdout);
  const service = parts.find((p) => p.provides?.tasks)?.provides?.tasks;
  // The extension's task listens that also name resources are told of commits through this bus.
  const bus = new InMemoryServerEventBus();
  const tasks = service ? new TaskExtension(ctx, service, bus, { name: 'fleetd', title: 'fleet', version: VERSION }) : undefined;
  const transport = tasks ? new TaskFrontTransport(stdio, tasks, ctx.config.mcp.maxListenStreams) : stdio;
  const handle = serveStdio(
    () => {
      const server = buildModernServer(ctx, parts, tasks !== undefined);
      offs.push(
        ctx.log.onCommit((event) => {
          if (!visibleTo(event, undefined, ctx.liveSessions)) return;
          const _meta = { [EVENT_ID_META_KEY]: event.id };
          for (const uri of touchedUris(event)) {
            void server.server.sendResourceUpdated({ uri, _meta }).catch(() => undefined);
            if (tasks?.open.size) bus.publish({ kind: 'resource_updated', uri, params: { _meta } });
          }
        }),
      );
      return server;
    },
    { legacy: 'reject', transport, maxSubscriptions: ctx.config.mcp.maxListenStreams },
  );
  return {
    close: async () => {
      offs.forEach((off) => off());
      tasks?.close();
      await handle.close();
    },
  };
}
