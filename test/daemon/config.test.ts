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

  it('serves MCP 2026-07-28 only when mcp.modern says so, and checks it is a boolean', () => {
    expect(ConfigSchema.parse({}).mcp).toMatchObject({ modern: false, maxListenStreams: 1024 });
    expect(ConfigSchema.parse({ mcp: { modern: true } }).mcp).toMatchObject({ modern: true, sessionIdle: 30 * 60_000 });
    const bad = join(dir, 'modern.json');
    writeFileSync(bad, JSON.stringify({ mcp: { modern: 'yes' } }));
    expect(() => loadConfig(bad)).toThrow(/modern\.json is invalid: .*mcp\.modern/);
  });

  it('rejects a malformed file with a message naming the file and the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ retention: { maxAge: 'soon' }, nope: 1 }));
    expect(() => loadConfig(bad)).toThrow(/bad\.json is invalid: .*retention\.maxAge: bad duration/);
    writeFileSync(bad, '{not json');
    expect(() => loadConfig(bad)).toThrow(/bad\.json is not valid JSON/);
    expect(loadConfig(join(dir, 'absent.json')).bodyLimit).toBe(1024 * 1024);
  });

  it('refuses durations a timer cannot hold, and 0 where it would spin, naming the range', () => {
    const issue = (raw: unknown) => {
      const r = ConfigSchema.safeParse(raw);
      return r.success ? 'accepted' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(issue({ sse: { keepAlive: 0 } })).toMatch(/^sse\.keepAlive: duration 0 is out of range: use from 100ms to 24\.8d$/);
    expect(issue({ sse: { keepAlive: '100d' } })).toMatch(/^sse\.keepAlive: duration "100d" is out of range/);
    expect(issue({ sse: { keepAlive: 2_147_484 } })).toMatch(/sse\.keepAlive: .*out of range/);
    expect(issue({ sse: { keepAlive: '24d' } })).toBe('accepted');
    expect(issue({ mcp: { sessionIdle: 0 } })).toMatch(/mcp\.sessionIdle: .*out of range/);
    expect(issue({ mcp: { slowClientTimeout: '30d' } })).toMatch(/mcp\.slowClientTimeout: .*out of range/);
    expect(issue({ members: { connectTimeout: 0 } })).toMatch(/members\.connectTimeout: .*out of range/);
    expect(issue({ members: { commandTimeout: '1000d' } })).toMatch(/members\.commandTimeout: .*out of range/);
    expect(issue({ members: { reconnect: { initial: 0 } } })).toMatch(/members\.reconnect\.initial: .*out of range/);
    // A grace of 0 (kill at once) and running every command on its own channel are meaningful.
    expect(issue({ members: { killGrace: 0, longCommand: 0 } })).toBe('accepted');
    // Retention age is compared with event times, not put in a timer: a long one is fine.
    expect(ConfigSchema.parse({ retention: { maxAge: '3650d' } }).retention.maxAge).toBe(3650 * 86_400_000);
    expect(issue({ retention: { maxAge: 0 } })).toMatch(/retention\.maxAge: .*out of range/);
  });

  it('reports an out-of-range duration in config.json with the file and field', () => {
    const bad = join(dir, 'keepalive.json');
    writeFileSync(bad, JSON.stringify({ sse: { keepAlive: 0 } }));
    expect(() => loadConfig(bad)).toThrow(/keepalive\.json is invalid: sse\.keepAlive: duration 0 is out of range/);
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
