import { z } from 'zod';
import { NAME_PATTERN } from '../credentials/vault.js';

/**
 * Member names: what agents type and what events carry as subject. Letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit; `all` is reserved because execute_command uses it
 * to mean every member.
 */
export const MEMBER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const MemberName = z
  .string()
  .regex(MEMBER_NAME_PATTERN, 'member names are 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. web-1)')
  .refine((n) => n.toLowerCase() !== 'all', '"all" is reserved (it means every member)');

export const MEMBER_KINDS = ['ssh', 'local'] as const;
export type MemberKind = (typeof MEMBER_KINDS)[number];

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._:%[\]-]+$/, 'host must be a host name or an IP address');
const port = z.number().int().min(1).max(65535);
const user = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/, 'user must be a plain login name');
const identityFile = z.string().min(1).max(4096).describe('private key file on this machine (absolute, or ~/...); never its contents');
const description = z.string().max(500);
const credentialName = z.string().regex(NAME_PATTERN, 'credential names are 1-64 letters, digits, _ . - starting with a letter or _');
const passwordCredential = credentialName.describe('name of a credential (credential_store_set) whose value is the SSH password; read from the vault at each connect, never stored here');
const passphraseCredential = credentialName.describe("name of a credential whose value is identity_file's passphrase; read from the vault at each connect");

/** register_member / POST /members. */
export const RegisterShape = {
  name: MemberName.describe('short name used everywhere else, e.g. web-1'),
  kind: z.enum(MEMBER_KINDS).optional().describe('ssh (default) or local (this machine, no SSH)'),
  host: host.optional().describe('SSH host name or IP (required for kind ssh)'),
  port: port.optional().describe('SSH port (default 22)'),
  user: user.optional().describe('login user (default: the user fleetd runs as)'),
  identity_file: identityFile.optional(),
  use_agent: z.boolean().optional().describe('authenticate with ssh-agent (SSH_AUTH_SOCK); default when no identity file is given and an agent is running'),
  password_credential: passwordCredential.optional(),
  passphrase_credential: passphraseCredential.optional(),
  description: description.optional(),
};
export const RegisterInput = z.object(RegisterShape).strict();
export type RegisterInput = z.infer<typeof RegisterInput>;

/** update_member / PATCH /members/:name (name comes from the path there). */
export const UpdateShape = {
  name: MemberName.describe('the member to change'),
  host: host.optional(),
  port: port.optional(),
  user: user.optional(),
  identity_file: identityFile.nullable().optional().describe('new private key file; null to stop using one'),
  use_agent: z.boolean().optional(),
  password_credential: passwordCredential.nullable().optional().describe('credential holding the SSH password; null to stop using a password'),
  passphrase_credential: passphraseCredential.nullable().optional().describe("credential holding identity_file's passphrase; null when the key has none"),
  description: description.nullable().optional(),
  accept_new_host_key: z
    .boolean()
    .optional()
    .describe('trust the host key the member presents now, replacing the stored one (after a host key mismatch you have checked)'),
};
export const UpdateInput = z.object(UpdateShape).strict();
export type UpdateInput = z.infer<typeof UpdateInput>;

/** Which members a call acts on: one name, a list, or "all". */
export const TargetShape = {
  member: z.string().min(1).max(63).optional().describe('one member name (or "all")'),
  members: z
    .union([z.array(z.string().min(1).max(63)).min(1).max(1000), z.literal('all')])
    .optional()
    .describe('several member names, or "all"'),
};
export interface Targets {
  member?: string;
  members?: string[] | 'all';
}

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');

export const ExecuteShape = {
  ...TargetShape,
  command: z.string().min(1).max(256 * 1024).describe('shell command (POSIX sh), run in a fresh subshell with stdin from /dev/null'),
  cwd: z.string().min(1).max(4096).optional().describe('working directory on the member (default: the login directory; ~/ works)'),
  timeout_s: z
    .number()
    .positive()
    .max(86_400)
    .optional()
    .describe('stop the command after this many seconds (default 50); above 60 it runs on an SSH channel of its own instead of a pooled shell'),
  env: z.record(envName, z.string().max(64 * 1024)).optional().describe('extra environment variables for this command'),
  background: z
    .boolean()
    .optional()
    .describe('run as a background task: returns a task id at once; task.completed / task.failed arrive as events when it ends (see monitor_task, stop_task)'),
  stall_after_s: z.number().min(1).max(86_400).optional().describe('background only: task.stalled after this many seconds without new output (default 150)'),
};
export const ExecuteInput = z.object(ExecuteShape).strict();
export type ExecuteInput = z.infer<typeof ExecuteInput>;

const transferPath = z.string().min(1).max(4096);

export const SendFilesShape = {
  ...TargetShape,
  files: z
    .array(z.object({ local: transferPath.describe('absolute path on this machine (file or folder)'), remote: transferPath.describe('path on the member (relative = login directory; ending in / = into that folder)') }).strict())
    .min(1)
    .max(1000),
};
export const SendFilesInput = z.object(SendFilesShape).strict();
export type SendFilesInput = z.infer<typeof SendFilesInput>;

export const FetchFilesShape = {
  ...TargetShape,
  files: z
    .array(
      z
        .object({
          remote: transferPath.describe('path on the member (file or folder; relative = login directory)'),
          local: transferPath.describe('absolute path on this machine; "{member}" is replaced by the member name (required when fetching from several members)'),
        })
        .strict(),
    )
    .min(1)
    .max(1000),
};
export const FetchFilesInput = z.object(FetchFilesShape).strict();
export type FetchFilesInput = z.infer<typeof FetchFilesInput>;
