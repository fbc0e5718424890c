import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { FleetError } from '../errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Shorter values cannot be redacted safely: they turn up by chance in ordinary output. */
export const MIN_VALUE_LENGTH = 6;
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** A credential's metadata as the vault keeps it (never its value). */
export interface CredentialRecord {
  name: string;
  description?: string;
  /** Members allowed to use it; undefined = every member. */
  members?: string[];
  ttlMs?: number;
  createdAt: string;
  updatedAt: string;
  /** When the value was last stored; undefined while it is requested but not entered yet. */
  storedAt?: string;
  /** Epoch ms the value expires at. */
  expiresAt?: number;
  warned: boolean;
  expired: boolean;
}

interface Row {
  name: string;
  description: string | null;
  members: string | null;
  ttl_ms: number | null;
  created_at: string;
  updated_at: string;
  stored_at: string | null;
  expires_at: number | null;
  ciphertext: Buffer | null;
  iv: Buffer | null;
  tag: Buffer | null;
  warned: number;
  expired: number;
}

function toRecord(r: Row): CredentialRecord {
  return {
    name: r.name,
    ...(r.description !== null ? { description: r.description } : {}),
    ...(r.members !== null ? { members: JSON.parse(r.members) as string[] } : {}),
    ...(r.ttl_ms !== null ? { ttlMs: r.ttl_ms } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.stored_at !== null ? { storedAt: r.stored_at } : {}),
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    warned: r.warned === 1,
    expired: r.expired === 1,
  };
}

/** Checks a credential name; the message says what is accepted. */
export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new FleetError('bad_credential', `bad credential name "${name.slice(0, 80)}": use 1-64 letters, digits, _ . - starting with a letter or _`);
  }
  return name;
}

/** Reads the vault key, making a random one (0600, created exclusively) on first use. */
export function loadOrCreateKey(path: string): Buffer {
  if (!existsSync(path)) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(KEY_BYTES));
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES) {
    throw new FleetError('credential_unreadable', `vault key ${path} holds ${key.length} bytes, not ${KEY_BYTES}: restore the original file (without it stored credentials cannot be read)`, 500);
  }
  return key;
}

/**
 * Credential values under AES-256-GCM in fleet.db's `credentials` table, with the name as
 * associated data (a ciphertext moved to another row fails to open), beside their metadata.
 */
export class Vault {
  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
  ) {}

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM credentials WHERE name = ?').get(name) as Row | undefined;
  }

  get(name: string): CredentialRecord | undefined {
    const r = this.row(name);
    return r && toRecord(r);
  }

  /** The record, or an error naming the credentials that exist. */
  require(name: string): CredentialRecord {
    const r = this.get(name);
    if (r) return r;
    const known = this.list().map((c) => c.name);
    throw new FleetError('unknown_credential', `no credential named "${name}"; known: ${known.length ? known.join(', ') : 'none yet'} (ask for one with credential_store_set)`, 404);
  }

  list(): CredentialRecord[] {
    return (this.db.prepare('SELECT * FROM credentials ORDER BY name').all() as Row[]).map(toRecord);
  }

  /** Creates a credential's metadata (no value yet) or changes an existing one's. */
  upsertMeta(name: string, meta: { description?: string | null; members?: string[] | null; ttlMs?: number | null }): CredentialRecord {
    const now = new Date().toISOString();
    const existing = this.row(name);
    if (!existing) {
      this.db
        .prepare('INSERT INTO credentials (name, description, members, ttl_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(name, meta.description ?? null, meta.members ? JSON.stringify(meta.members) : null, meta.ttlMs ?? null, now, now);
    } else {
      const description = meta.description === undefined ? existing.description : meta.description;
      const members = meta.members === undefined ? existing.members : meta.members === null ? null : JSON.stringify(meta.members);
      const ttl = meta.ttlMs === undefined ? existing.ttl_ms : meta.ttlMs;
      // A new TTL restarts the clock of a stored value from now.
      const expiresAt = meta.ttlMs === undefined ? existing.expires_at : existing.ciphertext && ttl !== null ? Date.now() + ttl : null;
      const rearm = meta.ttlMs !== undefined ? 0 : existing.warned;
      this.db
        .prepare('UPDATE credentials SET description = ?, members = ?, ttl_ms = ?, expires_at = ?, warned = ?, updated_at = ? WHERE name = ?')
        .run(description, members, ttl, expiresAt, rearm, now, name);
    }
    return this.get(name)!;
  }

  /** Encrypts and stores a value (creating the credential when it was not requested); starts its TTL. */
  storeValue(name: string, value: string, ttlMs?: number): CredentialRecord {
    checkName(name);
    if (value.length < MIN_VALUE_LENGTH) {
      throw new FleetError('bad_credential', `the value for ${name} is ${value.length} character(s); at least ${MIN_VALUE_LENGTH} are needed so it can be redacted safely from output`);
    }
    if (value.length > 64 * 1024) throw new FleetError('bad_credential', `the value for ${name} is over 64 KiB; store a shorter secret (or a path to a file)`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const now = new Date();
    this.db.transaction(() => {
      if (!this.row(name)) this.upsertMeta(name, {});
      const ttl = ttlMs ?? this.row(name)!.ttl_ms ?? null;
      this.db
        .prepare('UPDATE credentials SET ciphertext = ?, iv = ?, tag = ?, ttl_ms = ?, stored_at = ?, expires_at = ?, warned = 0, expired = 0, updated_at = ? WHERE name = ?')
        .run(ciphertext, iv, tag, ttl, now.toISOString(), ttl === null ? null : now.getTime() + ttl, now.toISOString(), name);
    })();
    return this.get(name)!;
  }

  /** Decrypts a stored value; a wrong key or damaged data is an error naming the credential. */
  reveal(name: string): string {
    const r = this.row(name);
    if (!r) return this.require(name) as never;
    if (!r.ciphertext || !r.iv || !r.tag) {
      throw new FleetError('credential_not_stored', `credential ${name} has no value${r.expired ? ' (it expired and was erased)' : ' yet'}: enter it with \`fleetctl secret set ${name}\``, 409);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, r.iv);
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(r.tag);
      return Buffer.concat([decipher.update(r.ciphertext), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new FleetError(
        'credential_unreadable',
        `credential ${name} cannot be decrypted: its stored data is damaged or vault.key is not the key it was stored with; enter it again with \`fleetctl secret set ${name}\``,
        500,
        { cause: e },
      );
    }
  }

  /** Names of credentials holding a value. */
  storedNames(): string[] {
    return (this.db.prepare('SELECT name FROM credentials WHERE ciphertext IS NOT NULL ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  }

  /** Marks the warning as sent (runs inside the event's transaction). */
  markWarned(name: string): void {
    this.db.prepare('UPDATE credentials SET warned = 1 WHERE name = ?').run(name);
  }

  /** Erases the value and marks it expired (runs inside the event's transaction). */
  markExpired(name: string): void {
    this.db.prepare('UPDATE credentials SET ciphertext = NULL, iv = NULL, tag = NULL, expired = 1, warned = 1 WHERE name = ?').run(name);
  }

  /** Deletes a credential with its value (inside the event's transaction when given as a side write). */
  delete(name: string): void {
    this.db.prepare('DELETE FROM credentials WHERE name = ?').run(name);
  }
}
