import type { ToolRegistry } from '../mcp/tool-registry.js';
import { z } from 'zod';
import type { ToolCaller } from '../context.js';
import type { PerMember } from '../members/fanout.js';
import type { CommandOutcome } from '../members/runtime.js';
import { ExecuteShape, FetchFilesShape, MemberName, RegisterShape, SendFilesShape, UpdateShape } from '../members/schema.js';
import type { MembersService } from '../members/service.js';
import type { TransferOutcome } from '../members/transfer-paths.js';
import { fail, guarded, ok } from './result.js';

/** One line per member for a command's summary. */
function commandLine(r: PerMember<CommandOutcome>): string {
  if (!r.ok) return `${r.member}: ✗ ${r.error.code}: ${r.error.message}`;
  const stopped = r.stopped === 'timeout' ? ' (stopped: timed out)' : r.stopped === 'cancelled' ? ' (stopped: cancelled)' : '';
  const cut = r.truncated ? ' (output truncated)' : '';
  return `${r.member}: exit ${r.exitCode ?? '-'} in ${r.durationMs} ms${stopped}${cut}`;
}

/** One line per member for a transfer's summary. */
function transferLine(r: PerMember<TransferOutcome>): string {
  if (!r.ok) return `${r.member}: ✗ ${r.error.code}: ${r.error.message}`;
  const bytes = r.files.reduce((n, f) => n + f.bytes, 0);
  const unverified = r.files.filter((f) => !f.verified).length;
  const links = r.skipped.filter((s) => s.reason === 'symbolic link').length;
  const special = r.skipped.length - links;
  const skipped = `${links ? `, ${links} symbolic link(s) skipped` : ''}${special ? `, ${special} special file(s) skipped` : ''}`;
  return `${r.member}: ${r.files.length} file(s), ${bytes} bytes, ${unverified ? `${unverified} NOT verified` : 'sha256 verified'}${skipped}`;
}

/** A call on several members fails as a whole only when no member did anything. */
function perMemberResult<T>(results: PerMember<T>[], line: (r: PerMember<T>) => string, what: string) {
  const lines = results.map(line).join('\n');
  if (results.every((r) => !r.ok)) return fail(`${what} failed on every member:\n${lines}`);
  return ok(`${what}: ${results.filter((r) => r.ok).length}/${results.length} member(s) ok\n${lines}`, { results });
}

/** MCP tools for members: registry, commands and files. */
export function memberTools(server: ToolRegistry, service: MembersService, caller?: ToolCaller): void {
  server.registerTool(
    'register_member',
    {
      title: 'Register a member',
      description:
        'Adds a machine to the fleet. kind "ssh" (default) needs host, and takes port, user, identity_file (a private key path on the fleetd machine) or use_agent; kind "local" is the machine fleetd runs on. ' +
        'A password or a key passphrase is never passed here: name a credential holding it (password_credential, passphrase_credential; ask for it with credential_store_set); until it is stored the member is offline with reason "missing credential". ' +
        'The host key is trusted on first use. Returns once the first connection attempt is over, with the member\'s state; member.online / member.offline events follow every change.',
      inputSchema: RegisterShape,
    },
    (args) =>
      guarded(async () => {
        const member = await service.register(args);
        const how = member.state === 'online' ? 'online' : `${member.state}${member.reason ? ` (${member.reason}: ${member.lastError ?? ''})` : ''}`;
        return ok(`Member ${member.name} registered; it is ${how}.`, { member });
      }),
  );

  server.registerTool(
    'update_member',
    {
      title: 'Change a member',
      description:
        'Changes a member\'s connection settings (host, port, user, identity_file, use_agent, password_credential, passphrase_credential, description) and reconnects. ' +
        'After a host key mismatch you have verified, pass accept_new_host_key: true to trust the key the member now presents.',
      inputSchema: UpdateShape,
    },
    (args) =>
      guarded(async () => {
        const r = await service.update(args);
        return ok(`Member ${r.member.name}: ${r.changed.length ? `changed ${r.changed.join(', ')}` : 'nothing changed'}; it is ${r.member.state}.${r.notes.length ? ` ${r.notes.join('; ')}.` : ''}`, r);
      }),
  );

  server.registerTool(
    'remove_member',
    { title: 'Remove a member', description: 'Forgets a member: closes its connection and drops its settings and host key.', inputSchema: { name: MemberName } },
    (args) => guarded(async () => ok(`Member ${args.name} removed.`, await service.remove(args.name))),
  );

  server.registerTool(
    'list_members',
    { title: 'List members', description: 'Every registered member with its address and whether it is online, offline (and why) or connecting.', inputSchema: {} },
    () =>
      guarded(() => {
        const members = service.list();
        const lines = members.map((m) => `${m.name}: ${m.state}${m.reason ? ` (${m.reason})` : ''}${m.address ? ` ${m.address}` : ' this machine'}`);
        return ok(members.length ? `${members.length} member(s):\n${lines.join('\n')}` : 'No members registered yet; add one with register_member.', { members });
      }),
  );

  server.registerTool(
    'member_detail',
    { title: 'Member details', description: 'One member in full: settings, liveness and last error, host key fingerprint (and a refused one), channels in use.', inputSchema: { name: z.string().min(1).max(63) } },
    (args) => guarded(() => ok(`Member ${args.name}.`, { member: service.detail(args.name) })),
  );

  server.registerTool(
    'execute_command',
    {
      title: 'Run a command on members',
      description:
        'Runs a shell command (POSIX sh) in the foreground on one member, a list, or "all", in parallel, over pooled SSH connections (about a millisecond of overhead per command). ' +
        'Returns per member: exitCode, stdout, stderr, durationMs; output beyond the limit is cut in the middle with a note. ' +
        'Each command runs in a fresh subshell with stdin from /dev/null: cd and exports do not carry over (use cwd and env). ' +
        'A member that is offline or drops mid-command gets its own error; the others still answer. Stopped after timeout_s (default 50). ' +
        'With background: true it runs detached as a task instead (it survives dropped connections and fleetd restarts) and returns task ids at once; task.completed or task.failed follows as an event.',
      inputSchema: ExecuteShape,
    },
    (args, extra) =>
      guarded(async () => {
        if (args.background) {
          const started = await service.startBackground(args, caller?.sessionId);
          const line = (r: PerMember<Record<string, unknown>>) => (r.ok ? `${r.member}: task ${String(r.id)} started` : `${r.member}: ✗ ${r.error.code}: ${r.error.message}`);
          return perMemberResult(started, line, 'execute_command (background)');
        }
        return perMemberResult(await service.execute(args, extra.signal), commandLine, 'execute_command');
      }),
  );

  server.registerTool(
    'send_files',
    {
      title: 'Copy files to members',
      description:
        'Copies files or folders from this machine (absolute local paths) to members over SFTP, in parallel. A remote path ending in "/" means "into this folder". ' +
        'Returns every file with its size and SHA-256, verified by hashing the copy on the member. "{member}" in any path is replaced by the member name. ' +
        'Symbolic links inside a folder are neither followed nor recreated: they are listed in "skipped" (as are devices, sockets and pipes); a path you name is followed.',
      inputSchema: SendFilesShape,
    },
    (args) => guarded(async () => perMemberResult(await service.sendFiles(args), transferLine, 'send_files')),
  );

  server.registerTool(
    'fetch_files',
    {
      title: 'Copy files from members',
      description:
        'Copies files or folders from members to this machine over SFTP. Local paths are absolute; with several members, put "{member}" in each local path. ' +
        'Returns every file with its size and SHA-256, verified against a hash taken on the member. ' +
        'Symbolic links inside a folder are neither followed nor recreated: they are listed in "skipped" (as are devices, sockets and pipes); a path you name is followed. ' +
        'A member that lists a file name that is not one plain path component ("../x", "a/b", "..") gets an unsafe_name error and nothing of that call is written.',
      inputSchema: FetchFilesShape,
    },
    (args) => guarded(async () => perMemberResult(await service.fetchFiles(args), transferLine, 'fetch_files')),
  );
}
