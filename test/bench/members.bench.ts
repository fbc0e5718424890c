/**
 * Issue 6 benchmarks: remote commands through fleetd's member pool beside OpenSSH, in one
 * run against sshd on loopback.
 *  - members.sequential  100 short commands (`true`) one after another: pooled
 *    execute_command vs a fresh `ssh` process each vs OpenSSH ControlMaster (and, for the
 *    design's sake, an ssh2 exec channel per command on an open connection)
 *  - members.fanout      one command on 20 members (20 sshd) vs Debian's parallel-ssh
 *    (skipped with a hint when parallel-ssh is not installed; the other figures stand)
 * Goals: pooled >= 10x faster than fresh ssh and faster than ControlMaster; fan-out faster
 * than pssh. The member user has a plain /bin/sh (a throwaway user, removed afterwards) so
 * no shell start-up file skews the comparison.
 * Runs under test/bench/run.ts (`npm run bench -- members`) or alone:
 * `node --import tsx test/bench/members.bench.ts [--quick]`. Needs `npm run build` and root.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { ConfigSchema } from '../../daemon/config.js';
import { openFleetDb } from '../../daemon/db/open.js';
import { HostKeyStore } from '../../daemon/members/host-keys.js';
import { MemberRegistry } from '../../daemon/members/registry.js';
import { memberSettings } from '../../daemon/members/settings.js';
import { SshMember } from '../../daemon/members/ssh-member.js';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { makeKey, Sshd } from '../helpers/sshd.js';
import { percentile, type Bench, type BenchEnv, type BenchRow } from './lib.js';

const run = promisify(execFile);
const FANOUT_MEMBERS = 20;

/** A login user with /bin/sh and an empty home, made for this run and deleted after it. */
class ThrowawayUser {
  readonly name = `fleetb${process.pid % 100000}`;
  readonly home: string;
  created = false;

  constructor(dir: string) {
    this.home = join(dir, 'home');
  }

  create(): string {
    if (process.getuid?.() !== 0) return userInfo().username; // not root: measure as ourselves
    mkdirSync(this.home, { recursive: true });
    // -p '*': no password, but not "locked" either (sshd without PAM refuses locked accounts).
    execFileSync('useradd', ['-M', '-d', this.home, '-s', '/bin/sh', '-p', '*', this.name]);
    this.created = true;
    const uid = Number(execFileSync('id', ['-u', this.name]).toString());
    chownSync(this.home, uid, uid);
    chmodSync(this.home, 0o755);
    return this.name;
  }

  remove(): void {
    if (this.created) spawnSync('userdel', [this.name], { stdio: 'ignore' });
    this.created = false;
  }
}

const sshArgs = (key: string, port: number) => ['-i', key, '-p', String(port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];

/** Milliseconds per run of `fn`, over `n` sequential runs. */
async function perRun(n: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

/** ssh2 exec channel per command on one open connection: what the shell channels avoid. */
async function execChannelPerCommand(sshd: Sshd, user: string, key: string, n: number): Promise<number> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve()).once('error', reject);
    client.connect({ host: '127.0.0.1', port: sshd.port, username: user, privateKey: readFileSync(key) });
  });
  const once = () =>
    new Promise<void>((resolve, reject) =>
      client.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.resume();
        ch.stderr.resume();
        ch.on('close', () => resolve());
      }),
    );
  await once();
  const ms = await perRun(n, once);
  client.end();
  return ms;
}

/** The pool alone, in this process (no daemon, no MCP): what a command costs on a warm shell channel. */
async function poolInProcess(sshd: Sshd, user: string, key: string, n: number): Promise<number> {
  const db = openFleetDb(':memory:');
  const registry = new MemberRegistry(db);
  const record = registry.insert({ name: 'bench', kind: 'ssh', host: '127.0.0.1', port: sshd.port, user, identityFile: key, useAgent: false });
  const member = new SshMember(record, registry.liveness('bench'), memberSettings(ConfigSchema.parse({}).members), new HostKeyStore(db), () => undefined);
  member.start();
  try {
    await member.settled();
    const once = () => member.run({ command: 'true' }, { timeoutMs: 10_000 });
    for (let i = 0; i < 10; i++) await once();
    return await perRun(n, once);
  } finally {
    member.stop();
    db.close();
  }
}

/** The first of `names` on PATH, or undefined. */
function onPath(...names: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) for (const n of names) if (dir && existsSync(join(dir, n))) return join(dir, n);
  return undefined;
}

/**
 * The fan-out baseline: `rounds` runs of parallel-ssh (Debian's name; pssh elsewhere) on every
 * sshd, in ms; or why there is none. Missing or failing, it costs only its own column.
 */
async function parallelSsh(env: BenchEnv, user: string, key: string, sshds: Sshd[], rounds: number): Promise<number[] | string> {
  const bin = onPath('parallel-ssh', 'pssh');
  if (!bin) {
    env.say('parallel-ssh is not installed, so the fan-out is measured without its baseline. For the side-by-side figure install it (Debian/Ubuntu: sudo apt-get install pssh) and run again.');
    return 'parallel-ssh is not installed (Debian/Ubuntu: apt-get install pssh)';
  }
  const args = ['-p', String(sshds.length), '-t', '60', '-l', user, '-x', `-i ${key}`, ...['BatchMode=yes', 'StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'LogLevel=ERROR'].flatMap((o) => ['-O', o])];
  for (const s of sshds) args.push('-H', `127.0.0.1:${s.port}`);
  env.say(`fan-out: true on ${sshds.length} members with ${bin}, ${rounds} rounds`);
  const ms: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await run(bin, [...args, 'true']);
      ms.push(performance.now() - t0);
    }
  } catch (e) {
    env.say(`${bin} failed, so the fan-out has no baseline: ${(e as Error).message.split('\n')[0]}`);
    return `${bin} failed: ${(e as Error).message.split('\n')[0]}`;
  }
  return ms;
}

async function runAll(env: BenchEnv): Promise<BenchRow[]> {
  const n = env.quick ? 20 : 100;
  const rounds = env.quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-members-'));
  const account = new ThrowawayUser(dir);
  const onSignal = () => {
    account.remove();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  const sshds: Sshd[] = [];
  let fleetd: FleetdProcess | undefined;
  let mcp: McpTestClient | undefined;
  try {
    const user = account.create();
    const key = await makeKey(join(dir, 'bench_ed25519'));
    const pub = readFileSync(`${key}.pub`);
    env.say(`starting ${FANOUT_MEMBERS} sshd on loopback (member user ${user}, shell /bin/sh)`);
    sshds.push(...(await Promise.all(Array.from({ length: FANOUT_MEMBERS }, () => Sshd.start()))));
    for (const s of sshds) {
      appendFileSync(join(s.dir, 'authorized_keys'), pub); // one key for every host, as pssh needs
      // sshd reads authorized_keys as the member user: let it through the harness's private folder.
      chmodSync(s.dir, 0o711);
      chmodSync(join(s.dir, 'authorized_keys'), 0o644);
    }
    const seq = sshds[0]!;

    fleetd = await new FleetdProcess({ config: { members: { connectTimeout: 10 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    const client = mcp;
    for (const [i, s] of sshds.entries()) await client.call('register_member', { name: `m${i}`, host: '127.0.0.1', port: s.port, user, identity_file: key });
    const execute = async (args: Record<string, unknown>) => {
      const r = await client.call<{ results: { ok: boolean; exitCode: number }[] }>('execute_command', { command: 'true', ...args });
      if (!r.results.every((x) => x.ok && x.exitCode === 0)) throw new Error(`execute_command failed: ${JSON.stringify(r.results)}`);
    };

    env.say(`sequential: ${n} x true, pooled`);
    for (let i = 0; i < 10; i++) await execute({ member: 'm0' }); // warm: shells open, JIT warm
    const pooled = await perRun(n, () => execute({ member: 'm0' }));

    env.say(`sequential: ${n} x true, fresh ssh each`);
    const fresh = await perRun(n, () => run('ssh', [...sshArgs(key, seq.port), `${user}@127.0.0.1`, 'true']));

    env.say(`sequential: ${n} x true, ControlMaster`);
    const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(dir, 'cm-%C')}`, '-o', 'ControlPersist=120'];
    await run('ssh', [...sshArgs(key, seq.port), ...control, `${user}@127.0.0.1`, 'true']); // opens the master
    const master = await perRun(n, () => run('ssh', [...sshArgs(key, seq.port), ...control, `${user}@127.0.0.1`, 'true']));
    spawnSync('ssh', [...sshArgs(key, seq.port), ...control, '-O', 'exit', `${user}@127.0.0.1`], { stdio: 'ignore' });

    env.say(`sequential: ${n} x true, ssh2 exec channel each`);
    const execChannel = await execChannelPerCommand(seq, user, key, n);

    env.say(`sequential: ${n} x true, pool in-process (no MCP)`);
    const inProcess = await poolInProcess(seq, user, key, n);

    env.say(`fan-out: true on ${FANOUT_MEMBERS} members, ${rounds} rounds`);
    const all = sshds.map((_, i) => `m${i}`);
    await execute({ members: all });
    const fan: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await execute({ members: all });
      fan.push(performance.now() - t0);
    }
    const pssh = await parallelSsh(env, user, key, sshds, Math.min(rounds, 5));
    const fanMs = percentile(fan, 50);

    const f2 = (v: number) => v.toFixed(2);
    return [
      {
        bench: 'members.sequential',
        metric: `pooled execute_command (MCP), ${n} x true`,
        unit: 'ms/cmd',
        fleetd: pooled,
        better: 'lower',
        note: `fresh ssh ${f2(fresh)} ms/cmd, ControlMaster ${f2(master)} ms/cmd, ssh2 exec channel ${f2(execChannel)} ms/cmd`,
      },
      { bench: 'members.sequential', metric: `pool alone in-process (no MCP), ${n} x true`, unit: 'ms/cmd', fleetd: inProcess, better: 'lower' },
      { bench: 'members.sequential', metric: 'pooled speed-up vs fresh ssh', unit: 'x', fleetd: fresh / pooled, better: 'higher', goal: { op: '>=', value: 10 } },
      { bench: 'members.sequential', metric: 'pooled speed-up vs ControlMaster', unit: 'x', fleetd: master / pooled, better: 'higher', goal: { op: '>=', value: 1 } },
      { bench: 'members.sequential', metric: 'pooled speed-up vs ssh2 exec channel', unit: 'x', fleetd: execChannel / pooled, better: 'higher' },
      ...(Array.isArray(pssh)
        ? [
            { bench: 'members.fanout', metric: `true on ${FANOUT_MEMBERS} members, p50 of ${rounds}`, unit: 'ms', fleetd: fanMs, better: 'lower' as const, note: `parallel-ssh ${f2(percentile(pssh, 50))} ms (p50 of ${pssh.length})` },
            { bench: 'members.fanout', metric: 'fan-out speed-up vs parallel-ssh', unit: 'x', fleetd: percentile(pssh, 50) / fanMs, better: 'higher' as const, goal: { op: '>=' as const, value: 1 } },
          ]
        : [{ bench: 'members.fanout', metric: `true on ${FANOUT_MEMBERS} members, p50 of ${rounds}`, unit: 'ms', fleetd: fanMs, better: 'lower' as const, note: `no parallel-ssh baseline: ${pssh}` }]),
    ];
  } finally {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await Promise.all(sshds.map((s) => s.dispose()));
    account.remove();
    process.off('SIGINT', onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benches: Bench[] = [
  {
    name: 'members',
    description: 'member commands: pooled execute_command vs fresh ssh vs ControlMaster (100 x true); one command on 20 members vs parallel-ssh',
    run: runAll,
  },
];

// Alone: node --import tsx test/bench/members.bench.ts [--quick]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const say = (line: string) => process.stderr.write(`  ${line}\n`);
  const rows = await runAll({ quick: process.argv.includes('--quick'), say, startNats: async () => undefined });
  for (const r of rows) {
    const goal = r.goal ? ` (goal ${r.goal.op} ${r.goal.value}: ${(r.goal.op === '>=' ? r.fleetd! >= r.goal.value : r.fleetd! < r.goal.value) ? 'met' : 'NOT met'})` : '';
    process.stdout.write(`${r.bench.padEnd(20)} ${r.metric.padEnd(48)} ${r.fleetd!.toFixed(2).padStart(9)} ${r.unit}${goal}${r.note ? `\n${' '.repeat(21)}${r.note}` : ''}\n`);
  }
}
