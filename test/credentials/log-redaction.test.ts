import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCore } from '../../daemon/core.js';
import type { CredentialsService } from '../../daemon/credentials/service.js';

describe("fleetd's own output passes through the redactor", () => {
  const home = mkdtempSync(join(tmpdir(), 'fleet-log-redaction-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('replaces a stored value in stderr lines (strings and buffers) while the daemon is open, and unwraps stderr on close', async () => {
    const secret = `LogLeak-${randomBytes(8).toString('hex')}`;
    const captured: string[] = [];
    const real = process.stderr.write;
    // Under the daemon's wrapper: what would reach the terminal or the journal.
    process.stderr.write = ((chunk: string | Uint8Array) => (captured.push(Buffer.from(chunk as never).toString('utf8')), true)) as typeof process.stderr.write;
    try {
      const core = await openCore(home, { flags: { port: 0 } });
      const capture = process.stderr.write;
      try {
        const credentials = core.parts.find((p) => p.name === 'credentials')!.provides!.credentials as CredentialsService;
        await credentials.store('log_token', secret, { via: 'cli' });
        process.stderr.write(`fleetd: failed with ${secret}\n`);
        process.stderr.write(Buffer.from(`fleetd: buffer ${JSON.stringify({ v: secret })}\n`));
      } finally {
        await core.close();
      }
      expect(process.stderr.write).not.toBe(capture); // the daemon's wrapper is gone again
    } finally {
      process.stderr.write = real;
    }
    const text = captured.join('');
    expect(text).toContain('fleetd: failed with [REDACTED:log_token]');
    expect(text).toContain('fleetd: buffer {"v":"[REDACTED:log_token]"}');
    expect(text).not.toContain(secret);
  });

  it('catches console.error in a real process (vitest reroutes console in its workers, so this runs the built daemon core in a child)', () => {
    const secret = `ConsoleLeak-${randomBytes(8).toString('hex')}`;
    const childHome = mkdtempSync(join(tmpdir(), 'fleet-log-redaction-child-'));
    try {
      const core = resolve('dist/daemon/core.js');
      const script = `
        const { openCore } = await import(${JSON.stringify(core)});
        const c = await openCore(process.argv[1], { flags: { port: 0 } });
        await c.parts.find((p) => p.name === 'credentials').provides.credentials.store('console_token', process.argv[2], { via: 'cli' });
        console.error('fleetd: console says ' + process.argv[2]);
        console.warn('fleetd: warn says ' + process.argv[2]);
        await c.close();
        process.exit(0);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, childHome, secret], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('fleetd: console says [REDACTED:console_token]');
      expect(r.stderr).toContain('fleetd: warn says [REDACTED:console_token]');
      expect(r.stderr).not.toContain(secret);
    } finally {
      rmSync(childHome, { recursive: true, force: true });
    }
  });
});
