import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig, resolveConfig } from '../../daemon/config.js';

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

describe('resolveConfig: flag > environment > config.json > default, resolved once', () => {
  it('takes each setting from the strongest source that gives it', () => {
    expect(resolveConfig({}).host).toBe('127.0.0.1');
    expect(resolveConfig({}).port).toBeUndefined();
    const file = { host: '127.0.0.2', port: 7500, bodyLimit: 10 };
    expect(resolveConfig({ file })).toMatchObject({ host: '127.0.0.2', port: 7500, bodyLimit: 10 });
    expect(resolveConfig({ file, env: { FLEET_HOST: '127.0.0.3', FLEET_PORT: '7600' } })).toMatchObject({ host: '127.0.0.3', port: 7600, bodyLimit: 10 });
    expect(resolveConfig({ file, env: { FLEET_HOST: '127.0.0.3', FLEET_PORT: '7600' }, flags: { host: '127.0.0.4', port: 0 } })).toMatchObject({ host: '127.0.0.4', port: 0 });
  });

  it('returns frozen settings: nothing can patch them after the parts are built', () => {
    const c = resolveConfig({});
    expect(() => {
      (c as { host: string }).host = '0.0.0.0';
    }).toThrow(TypeError);
    expect(() => {
      (c.members as { channels: number }).channels = 1;
    }).toThrow(TypeError);
  });

  it('names the source of a bad port', () => {
    expect(() => resolveConfig({ env: { FLEET_PORT: 'abc' } })).toThrow(/FLEET_PORT="abc" is not a port number: use 0-65535/);
    expect(() => resolveConfig({ flags: { port: Number.NaN } })).toThrow(/--port NaN is not a port number/);
    expect(() => resolveConfig({ file: { port: 70000 }, source: 'x/config.json' })).toThrow(/x\/config\.json is invalid: port/);
  });
});
