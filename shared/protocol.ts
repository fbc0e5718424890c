/**
 * What fleetd, fleet-bridge and fleetctl agree on over the wire: header names, the error
 * body of every non-MCP route, and the JSON views of GET /status and the member routes.
 * Types and constants only, so any binary can import it without pulling in the daemon.
 */

/** On an MCP initialize: replay the fleet events after this id into the new session. */
export const RESUME_AFTER_HEADER = 'fleet-resume-after';

/** Every error code fleetd sends in an error body (and fleetctl may see). */
export type ErrorCode =
  // input a client sent
  | 'bad_json'
  | 'bad_event'
  | 'bad_since'
  | 'bad_last_event_id'
  | 'bad_limit'
  | 'bad_topic'
  | 'reserved_topic'
  | 'bad_member'
  | 'bad_targets'
  | 'bad_path'
  | 'bad_identity'
  | 'no_identity'
  | 'no_agent'
  | 'body_too_large'
  // who may call
  | 'unauthorized'
  | 'forbidden_host'
  | 'forbidden_origin'
  | 'remote_not_allowed'
  // members
  | 'unknown_member'
  | 'member_exists'
  | 'member_busy'
  | 'member_error'
  | 'member_lost'
  | 'member_offline'
  | 'member_removed'
  | 'no_members'
  | 'shell_exited'
  | 'transfer_failed'
  | 'transfer_too_large'
  | 'unsafe_name'
  // credentials
  | 'bad_credential'
  | 'unknown_credential'
  | 'credential_not_stored'
  | 'credential_out_of_scope'
  | 'credential_unreadable'
  | 'bad_code'
  // tasks
  | 'bad_task'
  | 'unknown_task'
  | 'task_running'
  | 'task_start_failed'
  | 'task_stop_failed'
  // CI
  | 'bad_signature'
  | 'bad_webhook'
  | 'webhook_not_configured'
  | 'bad_repo'
  | 'unknown_ci_watch'
  // file watches
  | 'bad_watch'
  | 'unknown_watch'
  | 'watch_failed'
  // the daemon and its home
  | 'already_running'
  | 'unsafe_home'
  | 'lock_failed'
  | 'bad_config'
  | 'bad_database'
  | 'database_damaged'
  | 'too_many_sessions'
  | 'storage_full'
  | 'not_found'
  | 'internal';

/** The one JSON shape of an error outside MCP: `{"error": {"code", "message"}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** A member's liveness as fleetd reports it. */
export type MemberState = 'unknown' | 'connecting' | 'online' | 'offline';

/** A member as list_members, GET /members and `fleetctl members` show it: settings (never secrets) and liveness now. */
export interface MemberView {
  name: string;
  kind: 'ssh' | 'local';
  address?: string;
  host?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  useAgent?: boolean;
  /** Credential names (never values) the member logs in with. */
  passwordCredential?: string;
  passphraseCredential?: string;
  description?: string;
  state: MemberState;
  reason?: string;
  since?: string;
  lastError?: string;
  connecting?: boolean;
}

/** Member counts in GET /status. */
export interface MembersSummary {
  total: number;
  online: number;
  offline: number;
  connecting: number;
}

/** GET /status: the daemon's state in one object (parts add their own keys). */
export interface StatusView {
  name: 'fleetd';
  version: string;
  pid: number;
  url: string;
  home: string;
  startedAt: string;
  uptimeS: number;
  lastEventId: number;
  eventsStored: number;
  mcpSessions: number;
  sseStreams: number;
  members?: MembersSummary;
  [part: string]: unknown;
}
