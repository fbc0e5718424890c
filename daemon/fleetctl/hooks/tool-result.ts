import type { SessionState } from './cursor.js';
import type { HookInput } from './stdin.js';

/** What a fleet tool call tells the hooks about the session: work it started or waits on, events it read. */
export interface ToolFacts {
  tasks: string[];
  credentials: string[];
  readEvents: number[];
}

/** The fleet tool a Claude Code tool name calls (`mcp__<server>__<tool>`; the server's name is the user's choice). */
function fleetTool(toolName: string | undefined): string | undefined {
  const m = /^mcp__.+__(execute_command|execute_prompt|credential_store_set|wait_for_events|list_events)$/.exec(toolName ?? '');
  return m?.[1];
}

/**
 * The JSON a fleet tool returned, whatever shape Claude Code hands the result in: the MCP
 * result ({content, structuredContent}), its content blocks alone, the structured object, or
 * the text. Fleet's text is a summary line followed by the same JSON, so the text is enough.
 */
export function toolJson(response: unknown): Record<string, unknown> | undefined {
  if (response === null || response === undefined) return undefined;
  if (typeof response === 'string') return jsonInText(response);
  if (Array.isArray(response)) {
    for (const block of response) {
      const text = (block as { text?: unknown } | null)?.text;
      const v = typeof text === 'string' ? jsonInText(text) : undefined;
      if (v) return v;
    }
    return undefined;
  }
  if (typeof response !== 'object') return undefined;
  const r = response as Record<string, unknown>;
  if (r.structuredContent && typeof r.structuredContent === 'object') return r.structuredContent as Record<string, unknown>;
  if (Array.isArray(r.content)) return toolJson(r.content);
  return r;
}

/** The JSON object in a tool's text: all of it, or what follows the summary line. */
function jsonInText(text: string): Record<string, unknown> | undefined {
  for (const start of [0, text.indexOf('\n{') + 1]) {
    if (start < 0 || text[start] !== '{') continue;
    try {
      const v = JSON.parse(text.slice(start)) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not JSON from here
    }
  }
  return undefined;
}

/** What a PostToolUse input says about the session, or undefined when the tool is not one of fleet's that matter. */
export function toolFacts(input: HookInput): ToolFacts | undefined {
  const tool = fleetTool(input.tool_name);
  if (!tool) return undefined;
  const body = toolJson(input.tool_response);
  if (!body) return undefined;
  const facts: ToolFacts = { tasks: [], credentials: [], readEvents: [] };
  if (tool === 'execute_command') {
    if ((input.tool_input as { background?: unknown } | undefined)?.background !== true) return undefined;
    for (const r of Array.isArray(body.results) ? body.results : []) {
      const id = (r as { ok?: unknown; id?: unknown } | null)?.id;
      if ((r as { ok?: unknown }).ok === true && typeof id === 'string') facts.tasks.push(id);
    }
  } else if (tool === 'execute_prompt') {
    const id = (body.task as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') facts.tasks.push(id);
  } else if (tool === 'credential_store_set') {
    const name = (body.credential as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string') facts.credentials.push(name);
  } else {
    for (const e of Array.isArray(body.events) ? body.events : []) {
      const id = (e as { id?: unknown } | null)?.id;
      if (Number.isSafeInteger(id)) facts.readEvents.push(id as number);
    }
  }
  return facts;
}

/** The session's state with a tool call's facts added. */
export function withFacts(s: SessionState, f: ToolFacts): SessionState {
  return { ...s, seen: [...s.seen, ...f.readEvents], tasks: [...s.tasks, ...f.tasks], credentials: [...s.credentials, ...f.credentials] };
}
