#!/usr/bin/env node
// A stand-in for `claude -p --output-format stream-json --verbose`, printing Claude Code's
// documented stream-json shapes: a system/init line, assistant lines, a last result line
// (one JSON message per line). It reads the prompt from stdin and appends what it was run
// with ({argv, cwd, pid, promptBytes}) as a JSON line to $FAKE_CLAUDE_LOG.
// Lines of the prompt steer it:
//   WAIT_FOR <path>   after the first assistant message, go quiet until <path> exists, then talk again
//   THEN_WAIT <path>  after talking again, wait until <path> exists before the result
//   SLEEP <seconds>   go quiet that long before answering
//   LONG <n>          the final text is n characters
//   FAIL              end with an error result (subtype error_during_execution) and exit 1
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const prompt = readFileSync(0, 'utf8');
if (process.env.FAKE_CLAUDE_LOG) appendFileSync(process.env.FAKE_CLAUDE_LOG, JSON.stringify({ argv, cwd: process.cwd(), pid: process.pid, promptBytes: Buffer.byteLength(prompt) }) + '\n');

const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
if (!argv.includes('-p') || flag('--output-format') !== 'stream-json' || !argv.includes('--verbose')) {
  process.stderr.write('fake-claude: expected -p --output-format stream-json --verbose\n');
  process.exit(2);
}
const directive = (name) => prompt.split('\n').find((l) => l.startsWith(`${name} `) || l === name)?.slice(name.length + 1);
const session = flag('--resume') ?? randomUUID();
const model = flag('--model') ?? 'claude-fake-1';
const started = Date.now();
const say = (msg) => process.stdout.write(JSON.stringify({ ...msg, session_id: session }) + '\n');
const assistant = (text) => say({ type: 'assistant', message: { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: null } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

say({ type: 'system', subtype: 'init', cwd: process.cwd(), tools: ['Bash', 'Read'], mcp_servers: [], model, permissionMode: 'default', apiKeySource: 'none' });
assistant(flag('--resume') ? `resuming ${session}` : 'thinking');
let turns = 1;
const wait = directive('WAIT_FOR');
if (wait) {
  while (!existsSync(wait)) await sleep(50);
  assistant('talking again');
  turns++;
}
const then = directive('THEN_WAIT');
if (then) while (!existsSync(then)) await sleep(50);
const quiet = directive('SLEEP');
if (quiet) await sleep(Number(quiet) * 1000);
const long = directive('LONG');
const first = prompt.split('\n')[0];
const text = long ? 'x'.repeat(Number(long)) : `${flag('--resume') ? 'resumed' : 'answered'}: ${first}`;
const failed = directive('FAIL') !== undefined;
say({
  type: 'result',
  subtype: failed ? 'error_during_execution' : 'success',
  is_error: failed,
  duration_ms: Date.now() - started,
  duration_api_ms: 1,
  num_turns: turns,
  result: failed ? 'it went wrong' : text,
  total_cost_usd: 0.0123,
  usage: { input_tokens: 10, output_tokens: 5 },
});
process.exit(failed ? 1 : 0);
