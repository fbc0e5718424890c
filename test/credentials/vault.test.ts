import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFleetDb } from '../../daemon/db/open.js';
import { Redactor } from '../../daemon/credentials/redactor.js';
import { loadOrCreateKey, Vault } from '../../daemon/credentials/vault.js';
import { tempHome } from '../helpers/fleetd.js';

describe('vault', () => {
  const homes: string[] = [];
  afterEach(() => homes.splice(0).forEach((h) => rmSync(h, { recursive: true, force: true })));

  function open() {
    const home = tempHome('fleet-vault-');
    homes.push(home);
    const db = openFleetDb(join(home, 'fleet.db'));
    const keyPath = join(home, 'vault.key');
    return { home, db, keyPath, vault: new Vault(db, loadOrCreateKey(keyPath)) };
  }

  it('makes a random 32-byte key file, 0600, once, and round-trips values under AES-256-GCM without storing the plaintext', () => {
    const { db, keyPath, vault } = open();
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyPath);
    expect(key.length).toBe(32);
    expect(loadOrCreateKey(keyPath).equals(key)).toBe(true);
    vault.storeValue('api_token', 'hunter2-secret-value');
    expect(vault.reveal('api_token')).toBe('hunter2-secret-value');
    const row = db.prepare('SELECT * FROM credentials').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain('hunter2');
    expect(Buffer.from(row.ciphertext as Buffer).includes(Buffer.from('hunter2'))).toBe(false);
    db.close();
  });

  it('refuses values shorter than 6 characters, saying why, without echoing the value', () => {
    const { db, vault } = open();
    expect(() => vault.storeValue('short', 'abcde')).toThrow(/at least 6 are needed so it can be redacted/);
    try {
      vault.storeValue('short', 'qwxyz');
    } catch (e) {
      expect((e as Error).message).not.toContain('qwxyz');
    }
    db.close();
  });

  it('a wrong key or damaged ciphertext is a clear error naming the credential, never a silent drop', () => {
    const { db, keyPath, vault } = open();
    vault.storeValue('deploy_key', 'correct horse battery');
    writeFileSync(keyPath, Buffer.alloc(32, 7));
    const other = new Vault(db, loadOrCreateKey(keyPath));
    expect(() => other.reveal('deploy_key')).toThrow(/credential deploy_key cannot be decrypted: .*vault.key/);
    const fresh = open();
    fresh.vault.storeValue('db_pass', 'swordfish-123');
    fresh.db.prepare("UPDATE credentials SET ciphertext = X'00' || substr(ciphertext, 2) WHERE name = 'db_pass'").run();
    expect(() => fresh.vault.reveal('db_pass')).toThrow(/credential db_pass cannot be decrypted/);
    // A ciphertext copied to another name fails too: the name is authenticated with it.
    fresh.vault.storeValue('a_one', 'first-value-1');
    fresh.vault.storeValue('b_two', 'second-value-2');
    fresh.db.prepare("UPDATE credentials SET (ciphertext, iv, tag) = (SELECT ciphertext, iv, tag FROM credentials WHERE name = 'a_one') WHERE name = 'b_two'").run();
    expect(() => fresh.vault.reveal('b_two')).toThrow(/credential b_two cannot be decrypted/);
    writeFileSync(keyPath, 'short');
    expect(() => loadOrCreateKey(keyPath)).toThrow(/holds 5 bytes, not 32/);
    db.close();
    fresh.db.close();
  });

  it('redacts every occurrence, longest value first, in strings and nested objects', () => {
    const r = new Redactor();
    r.add('tok', 'abc123xyz');
    r.add('long', 'abc123xyz-and-more');
    expect(r.redact('a abc123xyz b abc123xyz-and-more c')).toBe('a [REDACTED:tok] b [REDACTED:long] c');
    expect(r.redactDeep({ out: ['x abc123xyz'], n: 3, nested: { 'key abc123xyz': true } })).toEqual({ out: ['x [REDACTED:tok]'], n: 3, nested: { 'key [REDACTED:tok]': true } });
  });
});
