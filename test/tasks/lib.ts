import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { closeSync, constants, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import type { FleetEventLike, McpTestClient } from '../helpers/mcp.js';

/** Records when each pushed fleet event reached the client (ms since the epoch), keyed by event id. */
export function recordArrivals(mcp: McpTestClient): Map<number, number> {
  const at = new Map<number, number>();
  const waiters = (mcp as unknown as { waiters: (() => void)[] }).waiters;
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    if (n.params.logger === 'fleet') {
      const e = n.params.data as FleetEventLike;
      at.set(e.id, Date.now());
      mcp.pushed.push(e);
    }
    waiters.splice(0).forEach((w) => w());
  });
  return at;
}

/** Pushed events about one task. */
export function taskEvents(mcp: McpTestClient, id: string): FleetEventLike[] {
  return mcp.pushed.filter((e) => e.subject === id);
}

/** Waits for a task's event with `topic`; returns it. */
export async function waitForTask(mcp: McpTestClient, id: string, topic: string | RegExp, timeoutMs = 15_000): Promise<FleetEventLike> {
  const match = (e: FleetEventLike) => e.subject === id && (typeof topic === 'string' ? e.topic === topic : topic.test(e.topic));
  await mcp.waitForPushed(`${String(topic)} for ${id}`, (es) => es.some(match), timeoutMs);
  return mcp.pushed.find(match)!;
}

/** Starts a background command on one member; returns the task id. */
export async function startTask(mcp: McpTestClient, member: string, command: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await mcp.call<{ results: { ok: boolean; id?: string; error?: { message: string } }[] }>('execute_command', { member, command, background: true, ...extra });
  const first = r.results[0]!;
  if (!first.ok) throw new Error(first.error!.message);
  return first.id!;
}

/** Live (not zombie) processes whose command line contains `needle`. */
export function liveProcesses(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) out.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** p-th percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Ends a task blocked in `read _ < FIFO`: opens the FIFO for writing (non-blocking: its reader
 * is there once the task runs; ENXIO until then, retried) and writes a line. Then waits a
 * moment, so releases are spread the way independent tasks end.
 */
export async function release(fifo: string, gapMs = 20): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, 'go\n');
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || i > 500) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await new Promise((r) => setTimeout(r, gapMs));
}
