import type Database from 'better-sqlite3';
import { FleetError } from '../errors.js';
import type { MemberKind } from './schema.js';

/** A registered member as stored (no secrets: an identity file is kept by path, a password or passphrase by credential name). */
export interface MemberRecord {
  name: string;
  kind: MemberKind;
  host?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  useAgent: boolean;
  /** Credential whose value is the SSH password (fetched from the vault at connect time). */
  passwordCredential?: string;
  /** Credential whose value is the identity file's passphrase. */
  passphraseCredential?: string;
  description?: string;
  createdAt: string;
  updatedAt: string;
}

export type LivenessState = 'unknown' | 'connecting' | 'online' | 'offline';

/** The last liveness fleetd reported for a member, kept so a daemon restart does not repeat or miss a transition. */
export interface StoredLiveness {
  state: LivenessState;
  reason?: string;
  since?: string;
}

interface Row {
  name: string;
  kind: MemberKind;
  host: string | null;
  port: number | null;
  user: string | null;
  identity_file: string | null;
  use_agent: number;
  password_credential: string | null;
  passphrase_credential: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
  state: string | null;
  state_reason: string | null;
  state_since: string | null;
}

function toRecord(r: Row): MemberRecord {
  return {
    name: r.name,
    kind: r.kind,
    ...(r.host !== null ? { host: r.host } : {}),
    ...(r.port !== null ? { port: r.port } : {}),
    ...(r.user !== null ? { user: r.user } : {}),
    ...(r.identity_file !== null ? { identityFile: r.identity_file } : {}),
    useAgent: r.use_agent === 1,
    ...(r.password_credential !== null ? { passwordCredential: r.password_credential } : {}),
    ...(r.passphrase_credential !== null ? { passphraseCredential: r.passphrase_credential } : {}),
    ...(r.description !== null ? { description: r.description } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The members table in fleet.db: names are unique regardless of case. */
export class MemberRegistry {
  /** `db` is fleet.db as its owner opened it; the table comes from daemon/db/migrations.ts. */
  constructor(private readonly db: Database.Database) {}

  /** Every member, by name. */
  list(): MemberRecord[] {
    return (this.db.prepare('SELECT * FROM members ORDER BY name COLLATE NOCASE').all() as Row[]).map(toRecord);
  }

  /** Member names, by name. */
  names(): string[] {
    return (this.db.prepare('SELECT name FROM members ORDER BY name COLLATE NOCASE').all() as { name: string }[]).map((r) => r.name);
  }

  /** The member, or undefined. */
  find(name: string): MemberRecord | undefined {
    const row = this.db.prepare('SELECT * FROM members WHERE name = ?').get(name) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** The member, or an `unknown_member` error that lists the members that do exist. */
  get(name: string): MemberRecord {
    const found = this.find(name);
    if (!found) throw this.unknown(name);
    return found;
  }

  /** The error for a name that is not registered, naming the ones that are. */
  unknown(name: string): FleetError {
    const known = this.names();
    const hint = known.length ? `known members: ${known.join(', ')}` : 'no members are registered yet; add one with register_member (or `fleetctl members add`)';
    return new FleetError('unknown_member', `no member named "${name}"; ${hint}`, 404);
  }

  /** Stores a new member; a taken name is a 409. */
  insert(m: Omit<MemberRecord, 'createdAt' | 'updatedAt'>): MemberRecord {
    if (this.find(m.name)) throw new FleetError('member_exists', `a member named "${m.name}" already exists; change it with update_member or remove it first`, 409);
    const now = new Date().toISOString();
    this.db
      .prepare(
        'INSERT INTO members (name, kind, host, port, user, identity_file, use_agent, password_credential, passphrase_credential, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(m.name, m.kind, m.host ?? null, m.port ?? null, m.user ?? null, m.identityFile ?? null, m.useAgent ? 1 : 0, m.passwordCredential ?? null, m.passphraseCredential ?? null, m.description ?? null, now, now);
    return this.get(m.name);
  }

  /** Replaces a member's settings (the caller merged the change). */
  replace(m: MemberRecord): MemberRecord {
    this.db
      .prepare('UPDATE members SET host = ?, port = ?, user = ?, identity_file = ?, use_agent = ?, password_credential = ?, passphrase_credential = ?, description = ?, updated_at = ? WHERE name = ?')
      .run(m.host ?? null, m.port ?? null, m.user ?? null, m.identityFile ?? null, m.useAgent ? 1 : 0, m.passwordCredential ?? null, m.passphraseCredential ?? null, m.description ?? null, new Date().toISOString(), m.name);
    return this.get(m.name);
  }

  /** Deletes a member; false when there was none. */
  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM members WHERE name = ?').run(name).changes > 0;
  }

  /** The liveness last reported for a member. */
  liveness(name: string): StoredLiveness {
    const r = this.db.prepare('SELECT state, state_reason, state_since FROM members WHERE name = ?').get(name) as Pick<Row, 'state' | 'state_reason' | 'state_since'> | undefined;
    return { state: (r?.state as LivenessState | null) ?? 'unknown', ...(r?.state_reason ? { reason: r.state_reason } : {}), ...(r?.state_since ? { since: r.state_since } : {}) };
  }

  /** Records a reported liveness transition. */
  saveLiveness(name: string, l: StoredLiveness): void {
    this.db.prepare('UPDATE members SET state = ?, state_reason = ?, state_since = ? WHERE name = ?').run(l.state, l.reason ?? null, l.since ?? null, name);
  }
}
