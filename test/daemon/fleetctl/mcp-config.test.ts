import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, fleetctl } from '../../helpers/fleetd.js';

type Entry = { type: string; url?: string; headers?: Record<string, string>; command?: string; args?: string[] };

let d: FleetdProcess;
beforeAll(async () => {
  d = await new FleetdProcess().start();
});
afterAll(async () => {
  await d?.dispose();
});

const ctl = (...args: string[]) => fleetctl(['--home', d.home, ...args]);

/** What Claude Code does with `${VAR}` in .mcp.json: expand it from its environment. */
function expand(entry: Entry, env: Record<string, string>): Entry {
  return JSON.parse(JSON.stringify(entry).replace(/\$\{(\w+)\}/g, (_, v: string) => env[v] ?? '')) as Entry;
}

function transportFor(e: Entry): Transport {
  const headers = e.headers ?? {};
  if (e.type === 'http') return new StreamableHTTPClientTransport(new URL(e.url!), { requestInit: { headers } });
  if (e.type === 'sse')
    return new SSEClientTransport(new URL(e.url!), {
      requestInit: { headers },
      eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
    });
  return new StdioClientTransport({ command: e.command!, args: e.args ?? [], env: { ...process.env, FLEET_TOKEN: '' } as Record<string, string>, stderr: 'ignore' });
}

describe('fleetctl mcp-config', () => {
  for (const transport of ['http', 'sse', 'stdio']) {
    it(`prints a ${transport} entry that connects the MCP SDK client, with no literal token`, async () => {
      const r = await ctl('mcp-config', '--transport', transport);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(d.token);
      const entry = (JSON.parse(r.stdout) as { mcpServers: Record<string, Entry> }).mcpServers.fleet!;
      expect(entry.type).toBe(transport);
      if (transport !== 'stdio') expect(entry.headers).toEqual({ Authorization: 'Bearer ${FLEET_TOKEN}' });
      else expect(entry.args).toEqual(expect.arrayContaining(['--autostart', '--home', d.home]));
      const client = new Client({ name: 'mcp-config-test', version: '1' });
      await client.connect(transportFor(expand(entry, { FLEET_TOKEN: d.token })));
      try {
        const tools = (await client.listTools()).tools.map((t) => t.name);
        expect(tools).toContain('wait_for_events');
      } finally {
        await client.close();
      }
    });
  }

  it('without the token in the environment the printed http entry is refused (the reference is what authenticates)', async () => {
    const entry = (JSON.parse((await ctl('mcp-config')).stdout) as { mcpServers: Record<string, Entry> }).mcpServers.fleet!;
    const client = new Client({ name: 'mcp-config-test', version: '1' });
    await expect(client.connect(transportFor(expand(entry, {})))).rejects.toThrow(/401|Unauthorized|token/i);
  });

  it('--write merges the entry into an existing .mcp.json, keeping other servers and keys', async () => {
    const file = join(d.home, 'project.mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { other: { type: 'stdio', command: 'other-server' }, fleet: { type: 'sse', url: 'http://old' } }, extra: 1 }));
    const r = await ctl('mcp-config', '--write', file);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(d.token);
    const doc = JSON.parse(text) as { mcpServers: Record<string, Entry>; extra: number };
    expect(doc.extra).toBe(1);
    expect(doc.mcpServers.other).toEqual({ type: 'stdio', command: 'other-server' });
    expect(doc.mcpServers.fleet).toEqual({ type: 'http', url: `${d.url}/mcp`, headers: { Authorization: 'Bearer ${FLEET_TOKEN}' } });

    writeFileSync(file, '{ not json');
    const bad = await ctl('mcp-config', '--write', file);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not valid JSON');
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });

  it('--claude prints the claude mcp add-json command carrying the same entry', async () => {
    const r = await ctl('mcp-config', '--claude', '--transport', 'sse');
    expect(r.code).toBe(0);
    const m = /^claude mcp add-json --scope project 'fleet' '(.*)'\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual({ type: 'sse', url: `${d.url}/sse`, headers: { Authorization: 'Bearer ${FLEET_TOKEN}' } });
  });

  it('--headers-helper: the entry names a command, not the token; run as Claude Code runs it, it prints the header the SDK client connects with', async () => {
    const r = await ctl('mcp-config', '--headers-helper');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(d.token);
    expect(r.stderr).toBe('');
    const entry = (JSON.parse(r.stdout) as { mcpServers: Record<string, Entry & { headersHelper?: string }> }).mcpServers.fleet!;
    expect(entry.headers).toBeUndefined();
    expect(entry.headersHelper).toContain('mcp-config --print-headers');
    // Claude Code runs the helper in a shell at connect time, with no FLEET_TOKEN of ours.
    const helper = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn('/bin/sh', ['-c', entry.headersHelper!], { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      p.stdout.on('data', (c) => (stdout += c));
      p.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(helper.code).toBe(0);
    const headers = JSON.parse(helper.stdout) as Record<string, string>;
    expect(headers).toEqual({ Authorization: `Bearer ${d.token}` });
    const client = new Client({ name: 'mcp-config-helper-test', version: '1' });
    await client.connect(transportFor({ ...entry, headers }));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('wait_for_events');
    } finally {
      await client.close();
    }
    // A token file named on the command line goes into the helper, which reads it when run.
    const file = join(d.home, 'other-token');
    writeFileSync(file, `${d.token}\n`, { mode: 0o600 });
    const withFile = JSON.parse((await ctl('mcp-config', '--headers-helper', '--token-file', file)).stdout) as { mcpServers: Record<string, { headersHelper: string }> };
    expect(withFile.mcpServers.fleet!.headersHelper).toContain(`--token-file '${file}'`);
    expect((await ctl('mcp-config', '--headers-helper', '--transport', 'stdio')).code).toBe(2);
  });
});
