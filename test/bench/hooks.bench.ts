/**
 * Issue 21 benchmark: wall time of `fleetctl hook post-tool` (spawn to exit, the hook's JSON
 * on stdin) with no new events and with 50 new ones, beside a bare `node -e ''` start in the
 * same run, interleaved so all three see the same machine. Goal: p50 within 1.5x of bare node.
 * Runs under test/bench/run.ts (`npm run bench -- hooks`). Needs `npm run build`.
 */
import { spawn } from 'node:child_process';
import { FLEETCTL, FleetdProcess } from '../helpers/fleetd.js';
import { percentile, type Bench, type BenchRow } from './lib.js';

/** Milliseconds from spawn to exit of `node args`, with `stdin` written and closed; fails on output it did not expect. */
function timed(args: string[], stdin: string, env: Record<string, string>, expectOutput: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, args, { env: { ...process.env, FLEET_TOKEN: '', FLEET_URL: '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited with ${code}`));
      if ((out !== '') !== expectOutput) return reject(new Error(`${args.join(' ')}: expected ${expectOutput ? 'output' : 'none'}, got ${JSON.stringify(out.slice(0, 200))}`));
      resolve(ms);
    });
    p.stdin.end(stdin);
  });
}

export const benches: Bench[] = [
  {
    name: 'hooks.post-tool',
    description: 'fleetctl hook post-tool wall time (no new events, 50 new) beside bare node -e ""',
    async run(env) {
      const runs = env.quick ? 10 : 40;
      // Two daemons: the quiet one never gets an event, the busy one 50 before each run.
      const d = await new FleetdProcess({ config: { hooks: { topics: ['bench.*'] } } }).start();
      const still = await new FleetdProcess().start();
      try {
        const hookEnv = { FLEET_HOME: d.home };
        const stillEnv = { FLEET_HOME: still.home };
        const input = (s: string) => JSON.stringify({ session_id: s, transcript_path: '/tmp/t.jsonl', cwd: '/tmp', hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_response: { stdout: '' } });
        const start = (s: string) => JSON.stringify({ session_id: s, hook_event_name: 'SessionStart', source: 'startup' });
        await timed([FLEETCTL, 'hook', 'session-start'], start('quiet'), stillEnv, true);
        await timed([FLEETCTL, 'hook', 'session-start'], start('busy'), hookEnv, true);
        const bare: number[] = [];
        const quiet: number[] = [];
        const busy: number[] = [];
        // One warm-up of each (page cache), then interleaved measured runs.
        for (let i = -1; i < runs; i++) {
          const b = await timed(['-e', ''], '', {}, false);
          const q = await timed([FLEETCTL, 'hook', 'post-tool'], input('quiet'), stillEnv, false);
          await Promise.all(Array.from({ length: 50 }, (_, k) => d.publish('bench.step', `step ${k} of run ${i}`).then((r) => r.arrayBuffer())));
          const y = await timed([FLEETCTL, 'hook', 'post-tool'], input('busy'), hookEnv, true);
          if (i >= 0) bare.push(b), quiet.push(q), busy.push(y);
        }
        env.say(`bare node p50 ${percentile(bare, 50).toFixed(1)} ms, post-tool quiet p50 ${percentile(quiet, 50).toFixed(1)} ms, 50 new p50 ${percentile(busy, 50).toFixed(1)} ms`);
        const goal = { op: '<' as const, value: Math.round(percentile(bare, 50) * 1.5 * 10) / 10 };
        const row = (metric: string, values: number[], p: number, withGoal: boolean): BenchRow => ({
          bench: 'hooks.post-tool',
          metric,
          unit: 'ms',
          fleetd: percentile(values, p),
          nats: percentile(bare, p),
          baseline: "bare node -e ''",
          better: 'lower',
          ...(withGoal ? { goal } : {}),
        });
        return [row('post-tool, no new events, p50', quiet, 50, true), row('post-tool, no new events, p99', quiet, 99, false), row('post-tool, 50 new events, p50', busy, 50, true), row('post-tool, 50 new events, p99', busy, 99, false)];
      } finally {
        await d.dispose();
        await still.dispose();
      }
    },
  },
];
