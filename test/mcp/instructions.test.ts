import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_PREFIXES } from '../../shared/events.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';

let d: FleetdProcess;
let c: McpTestClient;

beforeAll(async () => {
  d = await new FleetdProcess().start();
  c = await McpTestClient.connect(d);
});

afterAll(async () => {
  await c?.client.close();
  await d?.dispose();
});

/** Names that read like a tool: a verb (or a planned feature's prefix) and an object, e.g. monitor_task, credential_store_set. */
const TOOL_SHAPED = /^(wait|list|publish|fleet|register|update|remove|execute|send|fetch|monitor|get|set|create|delete|start|stop|cancel|run|watch|unwatch|credential|task|ci|file)_/;

/** Features that have tools in the design but may not exist yet: text may speak of one only when a tool of it is listed. */
const FEATURES: [RegExp, RegExp][] = [
  [/\btasks?\b|monitor_task|execute_prompt/i, /task|prompt/],
  [/\bcredentials?\b|\bsecrets?\b|\bvault\b/i, /credential|secret/],
  [/\bCI\b|\bwebhooks?\b|\bgithub\b/i, /ci_|_ci\b|github/],
  [/file changes?|\bwatch(es|ing)?\b/i, /watch/],
];

describe('MCP instructions and tool descriptions name only what exists', () => {
  it('mentions no tool that tools/list does not list, and no feature without tools', async () => {
    const { tools } = await c.client.listTools();
    const names = new Set(tools.map((t) => t.name));
    const args = new Set(tools.flatMap((t) => Object.keys((t.inputSchema.properties ?? {}) as Record<string, unknown>)));
    const instructions = c.client.getInstructions() ?? '';
    expect(instructions).toContain('wait_for_events');

    const texts: [string, string][] = [['instructions', instructions]];
    for (const t of tools) {
      texts.push([`${t.name} description`, t.description ?? '']);
      for (const [arg, schema] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) texts.push([`${t.name}.${arg}`, schema.description ?? '']);
    }
    for (const [where, text] of texts) {
      // Every snake_case word shaped like a tool name is a listed tool or an argument (error codes such as unsafe_name are neither).
      for (const word of text.match(/\b[a-z]+(?:_[a-z]+)+\b/g) ?? []) {
        if (TOOL_SHAPED.test(word)) expect(names.has(word) || args.has(word), `${where} names "${word}", which is neither a tool nor an argument`).toBe(true);
      }
      // The reserved topic prefixes (publish_event lists them) are a rule about names, not a feature.
      const prose = text.replaceAll(RESERVED_PREFIXES.join(' '), '');
      for (const [mention, tool] of FEATURES) {
        if ([...names].some((n) => tool.test(n))) continue;
        expect(prose, `${where} speaks of a feature with no tool`).not.toMatch(mention);
      }
    }
    // Each listed tool is introduced in the instructions, so the model knows it is there.
    for (const name of names) expect(instructions, name).toContain(name);
  });
});
