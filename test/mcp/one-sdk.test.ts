import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fleetd.js';

/** Every compiled .js file under dist/. */
function compiled(dir = join(ROOT, 'dist')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? compiled(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}

describe('the MCP server side', () => {
  it('depends on one SDK (v2): no shipped file loads SDK v1, which is only a dev dependency for the test clients', () => {
    const files = compiled();
    expect(files.some((f) => f.endsWith('daemon/mcp/streamable-http.js'))).toBe(true);
    const v1 = files.filter((f) => /['"]@modelcontextprotocol\/sdk[/'"]/.test(readFileSync(f, 'utf8')));
    expect(v1).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('@modelcontextprotocol/server');
    expect(Object.keys(pkg.dependencies)).not.toContain('@modelcontextprotocol/sdk');
    expect(Object.keys(pkg.devDependencies)).toContain('@modelcontextprotocol/sdk');
  });
});
