import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE, FLEETCTL, FLEETD, FleetdProcess, ROOT } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

const run = promisify(execFile);
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Names that read like a tool: a verb (or a planned feature's prefix) and an object; error codes (unsafe_name) and file names do not. */
const TOOL_SHAPED = /^(wait|list|publish|fleet|register|update|remove|execute|send|fetch|monitor|get|set|create|delete|start|stop|cancel|run|watch|unwatch|credential|task|ci|file)_/;

type Schema = { properties?: Record<string, Schema>; items?: Schema };

/** Splits at top-level separators (outside [] {} and quotes). */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '[' || ch === '{')) depth++;
    else if (!quoted && (ch === ']' || ch === '}')) depth--;
    if (ch === sep && depth === 0 && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Argument names in a README shape such as `{member | members: [...] | "all", files: [{local, remote}], cwd?}`, each checked against the schema. */
function checkShape(shape: string, schema: Schema, where: string, problems: string[]): void {
  const inner = shape.trim().replace(/^\{/, '').replace(/\}$/, '');
  for (const field of splitTop(inner, ',')) {
    for (const alt of splitTop(field, '|')) {
      const a = alt.trim();
      if (a === '' || a === '...' || a.startsWith('"')) continue;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\??\s*(?::\s*(.*))?$/s.exec(a);
      if (!m) {
        problems.push(`${where}: cannot read "${a}"`);
        continue;
      }
      const [, name, value] = m;
      const prop = schema.properties?.[name!];
      if (!prop) {
        problems.push(`${where}: no argument "${name}" (the tool takes ${Object.keys(schema.properties ?? {}).join(', ') || 'none'})`);
        continue;
      }
      const nested = value && /^\[\s*(\{.*\})\s*\]$/s.exec(value.trim());
      if (nested && prop.items) checkShape(nested[1]!, prop.items, `${where}.${name}[]`, problems);
    }
  }
}

let d: FleetdProcess;
let c: McpTestClient;
let tools: Map<string, Schema>;

beforeAll(async () => {
  d = await new FleetdProcess().start();
  c = await McpTestClient.connect(d);
  tools = new Map((await c.client.listTools()).tools.map((t) => [t.name, t.inputSchema as Schema]));
});

afterAll(async () => {
  await c?.client.close();
  await d?.dispose();
});

describe('README matches the real tools and flags', () => {
  it('names every MCP tool, and each tool example in README uses only the arguments the tool takes', () => {
    const problems: string[] = [];
    const spans = [...README.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
    const args = new Set([...tools.values()].flatMap((s) => Object.keys(s.properties ?? {})));
    let examples = 0;
    for (const span of spans) {
      const call = /^([a-z]+(?:_[a-z]+)+)\s*(?:\((\{.*\})?\)|(\{.*\})|\s+([a-z]+(?:_[a-z]+)*))?$/s.exec(span);
      if (!call) continue;
      const [, name, parenShape, braceShape, bareArg] = call;
      const schema = tools.get(name!);
      if (!schema) {
        // A bare word may be an argument (`timeout_s`) or no tool at all (`unsafe_name`), but not a tool that does not exist.
        if (parenShape || braceShape || bareArg || (TOOL_SHAPED.test(name!) && !args.has(name!))) problems.push(`\`${span}\`: no tool "${name}" (tools: ${[...tools.keys()].join(', ')})`);
        continue;
      }
      examples++;
      if (parenShape || braceShape) checkShape((parenShape ?? braceShape)!, schema, name!, problems);
      if (bareArg && !schema.properties?.[bareArg]) problems.push(`\`${span}\`: ${name} has no argument "${bareArg}"`);
    }
    for (const name of tools.keys()) if (!spans.some((s) => s === name || s.startsWith(`${name} `) || s.startsWith(`${name}(`))) problems.push(`tool ${name} is not documented in README`);
    expect(problems).toEqual([]);
    expect(examples).toBeGreaterThan(10);
  });

  it('names only flags that fleetd, fleetctl and fleet-bridge really take', async () => {
    const help = async (bin: string, args: string[]) => (await run(process.execPath, [bin, ...args, '--help'], { env: { ...process.env, FLEET_TOKEN: '' } })).stdout;
    const ctlCommands = [[], ['events'], ['publish'], ['status'], ['members'], ['members', 'list'], ['members', 'add'], ['members', 'show'], ['members', 'update'], ['members', 'remove'], ['secret'], ['secret', 'set'], ['secret', 'list'], ['secret', 'rm'], ['tasks', 'list'], ['tasks', 'show'], ['tasks', 'tail'], ['tasks', 'stop'], ['ci', 'setup'], ['ci', 'watch'], ['ci', 'unwatch'], ['ci', 'list'], ['hooks', 'install'], ['hooks', 'uninstall'], ['hook'], ['service'], ['service', 'install'], ['service', 'status'], ['service', 'logs'], ['mcp-config'], ['exec'], ['cp'], ['doctor']];
    const helps: Record<string, string> = {
      fleetd: await help(FLEETD, []),
      'fleet-bridge': await help(BRIDGE, []),
      fleetctl: (await Promise.all(ctlCommands.map((a) => help(FLEETCTL, a)))).join('\n'),
    };
    const flagsOf = (text: string) => new Set([...text.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
    const known = Object.fromEntries(Object.entries(helps).map(([k, v]) => [k, flagsOf(v)]));
    const all = new Set(Object.values(known).flatMap((s) => [...s]));
    // Flags of other programs README shows: claude (mcp add --transport/--header, channels), npm run bench, the Inspector CLI.
    const foreign = new Set(['--dangerously-load-development-channels', '--header', '--quick', '--protocol-era']);

    const problems: string[] = [];
    let section = '';
    let checked = 0;
    for (const line of README.split('\n')) {
      const heading = /^##\s+(\S+)/.exec(line);
      if (heading) section = heading[1]!;
      if (/\b(claude|npm)\s/.test(line)) continue; // another program's command line
      const program = /^\s*(?:\$\s*)?(fleetd|fleetctl|fleet-bridge)\b/.exec(line.replace(/^[-*]\s+`?/, ''))?.[1] ?? (section in known ? section : undefined);
      for (const flag of flagsOf(line)) {
        if (foreign.has(flag)) continue;
        checked++;
        const ok = program ? known[program]!.has(flag) : all.has(flag);
        if (!ok) problems.push(`${flag} (${program ?? 'any program'}): "${line.trim().slice(0, 100)}"`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(15);
  }, 180_000); // two dozen --help runs, each a node start: slow on a busy machine
});
