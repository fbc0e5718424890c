import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** A host key as people compare it: its type and OpenSSH-style SHA256 fingerprint (`ssh-keygen -lf`). */
export interface HostKeyInfo {
  type: string;
  fingerprint: string;
  at: string;
}

export type HostKeyVerdict =
  | { kind: 'trusted'; key: HostKeyInfo }
  | { kind: 'first-use'; key: HostKeyInfo }
  | { kind: 'mismatch'; expected: HostKeyInfo; presented: HostKeyInfo };

/** `SHA256:...` exactly as OpenSSH prints it (base64 without padding). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string of the SSH wire-format public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return len > 0 && len < 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

interface Row {
  key_b64: string | null;
  key_type: string | null;
  trusted_at: string | null;
  offered_b64: string | null;
  offered_type: string | null;
  offered_at: string | null;
}

/**
 * Host keys per member, trusted on first use. A different key later is refused and kept
 * as "offered" so that an explicit accept trusts exactly the key the user was shown.
 */
export class HostKeyStore {
  /** `db` is fleet.db as its owner opened it; the table comes from daemon/db/migrations.ts. */
  constructor(private readonly db: Database.Database) {}

  private row(member: string): Row | undefined {
    return this.db.prepare('SELECT key_b64, key_type, trusted_at, offered_b64, offered_type, offered_at FROM member_host_keys WHERE member = ?').get(member) as Row | undefined;
  }

  /** Checks the key a member presents: trusts it when none is stored, refuses a different one. */
  check(member: string, blob: Buffer): HostKeyVerdict {
    const now = new Date().toISOString();
    const presented: HostKeyInfo = { type: keyTypeOf(blob), fingerprint: fingerprintOf(blob), at: now };
    const b64 = blob.toString('base64');
    const row = this.row(member);
    if (!row?.key_b64) {
      this.db
        .prepare(
          `INSERT INTO member_host_keys (member, key_b64, key_type, trusted_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(member) DO UPDATE SET key_b64 = excluded.key_b64, key_type = excluded.key_type, trusted_at = excluded.trusted_at, offered_b64 = NULL, offered_type = NULL, offered_at = NULL`,
        )
        .run(member, b64, presented.type, now);
      return { kind: 'first-use', key: presented };
    }
    const expected: HostKeyInfo = { type: row.key_type ?? 'unknown', fingerprint: fingerprintOf(Buffer.from(row.key_b64, 'base64')), at: row.trusted_at ?? now };
    if (row.key_b64 === b64) return { kind: 'trusted', key: expected };
    this.db.prepare('UPDATE member_host_keys SET offered_b64 = ?, offered_type = ?, offered_at = ? WHERE member = ?').run(b64, presented.type, now, member);
    return { kind: 'mismatch', expected, presented };
  }

  /** The trusted key and, after a mismatch, the refused one. */
  get(member: string): { trusted?: HostKeyInfo; offered?: HostKeyInfo } {
    const row = this.row(member);
    if (!row) return {};
    return {
      ...(row.key_b64 ? { trusted: { type: row.key_type ?? 'unknown', fingerprint: fingerprintOf(Buffer.from(row.key_b64, 'base64')), at: row.trusted_at ?? '' } } : {}),
      ...(row.offered_b64 ? { offered: { type: row.offered_type ?? 'unknown', fingerprint: fingerprintOf(Buffer.from(row.offered_b64, 'base64')), at: row.offered_at ?? '' } } : {}),
    };
  }

  /**
   * Trusts the key refused last; with none refused yet, forgets the stored key so the next
   * connection trusts what it sees. Returns the newly trusted key, if known.
   */
  acceptNew(member: string): HostKeyInfo | undefined {
    const row = this.row(member);
    if (row?.offered_b64) {
      const now = new Date().toISOString();
      this.db.prepare('UPDATE member_host_keys SET key_b64 = offered_b64, key_type = offered_type, trusted_at = ?, offered_b64 = NULL, offered_type = NULL, offered_at = NULL WHERE member = ?').run(now, member);
      return this.get(member).trusted;
    }
    this.forget(member);
    return undefined;
  }

  /** Drops everything stored for a member (removal, or a host change). */
  forget(member: string): void {
    this.db.prepare('DELETE FROM member_host_keys WHERE member = ?').run(member);
  }
}
