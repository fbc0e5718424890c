import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig } from '../../daemon/config.js';

describe('config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('turns durations into milliseconds, for given values and for defaults inside a partial section', () => {
    const full = ConfigSchema.parse({});
    expect(full.retention.maxAge).toBe(30 * 86_400_000);
    expect(full.sse.keepAlive).toBe(15_000);
    expect(full.mcp.sessionIdle).toBe(30 * 60_000);
    const partial = ConfigSchema.parse({ retention: { maxEvents: 10 }, sse: { subscriberBuffer: 5 }, mcp: { maxUnreadBytes: 1 } });
    expect(partial.retention.maxAge).toBe(30 * 86_400_000);
    expect(partial.sse.keepAlive).toBe(15_000);
    expect(partial.mcp.sessionIdle).toBe(30 * 60_000);
    expect(partial.mcp.slowClientTimeout).toBe(5000);
    expect(ConfigSchema.parse({ retention: { maxAge: '7d' }, sse: { keepAlive: 2 } })).toMatchObject({ retention: { maxAge: 7 * 86_400_000 }, sse: { keepAlive: 2000 } });
  });

  it('rejects a malformed file with a message naming the file and the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ retention: { maxAge: 'soon' }, nope: 1 }));
    expect(() => loadConfig(bad)).toThrow(/bad\.json is invalid: .*retention\.maxAge: bad duration/);
    writeFileSync(bad, '{not json');
    expect(() => loadConfig(bad)).toThrow(/bad\.json is not valid JSON/);
    expect(loadConfig(join(dir, 'absent.json')).bodyLimit).toBe(1024 * 1024);
  });
});
