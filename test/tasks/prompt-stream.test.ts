import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../daemon/config.js';
import { agentFor, parsePromptStream, promptCommand } from '../../daemon/tasks/prompt.js';

const line = (m: Record<string, unknown>) => JSON.stringify(m);

describe('execute_prompt: agent command and stream-json reading', () => {
  it('takes a member\'s own agent command (any case of its name), else tasks.agent.command; config rejects a multi-line one', () => {
    const agent = ConfigSchema.parse({ tasks: { agent: { members: { Box: '/opt/claude' } } } }).tasks.agent;
    expect(agent.command).toBe('claude');
    expect(agentFor(agent, 'box')).toBe('/opt/claude');
    expect(agentFor(agent, 'other')).toBe('claude');
    expect(ConfigSchema.safeParse({ tasks: { agent: { command: 'claude\nrm -rf ~' } } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ tasks: { agent: { members: { 'bad name': 'x' } } } }).success).toBe(false);
  });

  it('builds the flags, quoted, and never the prompt', () => {
    expect(promptCommand('claude', { resume: 'abc-1', model: 'opus', max_turns: 2 })).toBe("claude '-p' '--output-format' 'stream-json' '--verbose' '--resume' 'abc-1' '--model' 'opus' '--max-turns' '2'");
    expect(promptCommand('claude', { timeout_s: 5 })).toMatch(/^if command -v timeout .* timeout -k 10 5 \/bin\/sh -c 'claude "\$@"' fleet-agent '-p'/);
  });

  it('reads the last result message; without one, the session id any message carried; a cut first line is skipped', () => {
    const stream = [
      '"session_id":"cut-off-half-line"}',
      line({ type: 'system', subtype: 'init', session_id: 's-1', model: 'm' }),
      line({ type: 'assistant', message: { content: [] }, session_id: 's-1' }),
      line({ type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 4, total_cost_usd: 0.5, duration_ms: 9, session_id: 's-1', errors: ['too many turns'] }),
    ].join('\n');
    expect(parsePromptStream(stream, '', 1)).toEqual({ messages: 3, sessionId: 's-1', subtype: 'error_max_turns', isError: true, turns: 4, costUsd: 0.5, agentDurationMs: 9, errors: ['too many turns'] });
    expect(parsePromptStream(line({ type: 'system', subtype: 'init', session_id: 's-2' }), '', 143)).toEqual({ messages: 1, sessionId: 's-2', reason: 'no_result' });
    expect(parsePromptStream('', 'boom', null)).toEqual({ messages: 0 });
  });
});
