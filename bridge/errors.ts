/**
 * JSON-RPC error codes the bridge answers with itself, beside the standard ones. The
 * daemon uses -32001..-32003 on /mcp; the bridge's own faults sit at -32030 and up so a
 * client (or a person reading a log) can tell which side failed.
 */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  internalError: -32603,
  /** fleetd is not running or not reachable, and did not come back within --wait-timeout. */
  daemonUnavailable: -32030,
  /** fleetd went away while handling the request; it may or may not have taken effect. */
  requestInterrupted: -32031,
  /** A request other than initialize (or ping) before initialize. */
  notInitialized: -32032,
  /** fleetd refused the bridge: wrong token, or an error answer to the transport itself. */
  daemonRejected: -32033,
} as const;

export type BridgeErrorCode = 'not_running' | 'unreachable' | 'timeout' | 'interrupted' | 'rejected' | 'session_lost' | 'closed' | 'cancelled';

/** A failure on the daemon side of the bridge, with what the client should be told. */
export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    /** JSON-RPC error code for the client. */
    readonly rpcCode: number = RPC.daemonUnavailable,
    /** JSON-RPC error data, when the daemon supplied some. */
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}
