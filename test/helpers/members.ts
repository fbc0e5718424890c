import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FleetdProcess } from './fleetd.js';
import { McpTestClient, type FleetEventLike } from './mcp.js';
import type { Sshd } from './sshd.js';

/** Member settings for tests: a dead link shows within 3 s, reconnects come within a second. */
export const FAST_MEMBERS = { keepaliveInterval: 1, keepaliveCountMax: 2, connectTimeout: 3, reconnect: { initial: 0.2, max: 1 }, killGrace: 1, longCommand: 60, sessionStartTimeout: 5 };
/** A timeout_s that makes execute_command use a channel of its own (above longCommand). */
export const LONG_TIMEOUT_S = 120;
/** keepaliveInterval × (keepaliveCountMax + 1) with FAST_MEMBERS. */
export const KEEPALIVE_WINDOW_MS = 3000;

/** register_member arguments for a test sshd, logging in as root with the sshd's user key. */
export function sshMember(name: string, sshd: Sshd, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, host: sshd.listen, port: sshd.port, user: 'root', identity_file: sshd.userKey, ...extra };
}

/** A fleetd with fast member settings and an MCP client on it. */
export async function startFleetd(members: Record<string, unknown> = FAST_MEMBERS): Promise<{ fleetd: FleetdProcess; mcp: McpTestClient }> {
  const fleetd = await new FleetdProcess({ config: { members } }).start();
  const mcp = await McpTestClient.connect(fleetd);
  return { fleetd, mcp };
}

/** The text of a tool result. */
export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Pushed member events about one member, optionally of one topic. */
export function eventsAbout(mcp: McpTestClient, member: string, topic?: string): FleetEventLike[] {
  return mcp.pushed.filter((e) => e.subject === member && (topic === undefined || e.topic === topic));
}

/** Waits until `count` pushed events about `member` with `topic` (and matching `pred`) exist; returns the last. */
export async function waitForMemberEvent(mcp: McpTestClient, member: string, topic: string, opts: { count?: number; timeoutMs?: number; pred?: (e: FleetEventLike) => boolean } = {}): Promise<FleetEventLike> {
  const count = opts.count ?? 1;
  const matching = () => eventsAbout(mcp, member, topic).filter(opts.pred ?? (() => true));
  await mcp.waitForPushed(`${count} × ${topic} for ${member}`, () => matching().length >= count, opts.timeoutMs ?? 15_000);
  return matching()[count - 1]!;
}

/** One member's entry in a per-member tool result. */
export interface MemberResult {
  member: string;
  ok: boolean;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  stopped?: string;
  truncated?: { stdout: number; stderr: number };
  files?: { from: string; to: string; bytes: number; sha256: string; verified: boolean }[];
  error?: { code: string; message: string };
}
