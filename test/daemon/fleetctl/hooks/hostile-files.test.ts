import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, tempHome } from '../../../helpers/fleetd.js';
import { hookInput, postToolContext, runHook } from './lib.js';

/** Well under the hook's own 8 s budget: a hook that has not ended by then hangs. */
const PROMPT_MS = 6000;

describe('hooks facing planted files under FLEET_HOME (FIFOs, symlinks out of it)', () => {
  let d: FleetdProcess;
  let env: Record<string, string>;
  let outside: string;
  const cursors = () => join(d.home, 'hooks', 'cursors');

  beforeAll(async () => {
    d = await new FleetdProcess({ config: { hooks: { topics: ['deploy.*'], minLevel: 'info' } } }).start();
    env = { FLEET_HOME: d.home };
    outside = tempHome('fleet-outside-');
  });
  afterAll(async () => {
    await d?.dispose();
    rmSync(outside, { recursive: true, force: true });
  });

  it("a FIFO in place of a session's cursor file: the hook ends at once with exit 0 and a real 0600 cursor replaces it", { timeout: 30_000 }, async () => {
    expect((await runHook('session-start', hookInput('SessionStart', 'fifo'), env)).code).toBe(0);
    const file = join(cursors(), 'fifo.json');
    rmSync(file);
    execFileSync('mkfifo', [file]);
    const r = await runHook('post-tool', hookInput('PostToolUse', 'fifo'), env, [], 15_000);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(lstatSync(file).isFile()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The session goes on from there: a new event is shown once.
    const id = ((await (await d.publish('deploy.after-fifo', 'shown after the FIFO')).json()) as { id: number }).id;
    expect(postToolContext((await runHook('post-tool', hookInput('PostToolUse', 'fifo'), env)).stdout)).toContain(`#${id} deploy.after-fifo`);
  });

  it('a FIFO in place of config.json: the hook ends at once with exit 0 (defaults, a log line)', { timeout: 30_000 }, async () => {
    const home = tempHome();
    execFileSync('mkfifo', [join(home, 'config.json')]);
    const r = await runHook('prompt', hookInput('UserPromptSubmit', 'x'), { FLEET_HOME: home }, [], 15_000);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(readFileSync(join(home, 'logs', 'hooks.log'), 'utf8')).toContain('config.json unreadable, using the defaults');
    rmSync(home, { recursive: true, force: true });
  });

  it('hooks/cursors planted as a symlink to a folder outside FLEET_HOME: nothing is written or chmodded there; the hook still exits 0', { timeout: 30_000 }, async () => {
    const home = tempHome();
    const target = join(outside, 'cursors-target');
    mkdirSync(target, { mode: 0o755 });
    const d2 = await new FleetdProcess({ home }).start();
    try {
      mkdirSync(join(home, 'hooks'), { mode: 0o700 });
      symlinkSync(target, join(home, 'hooks', 'cursors'));
      for (const [hook, event] of [['session-start', 'SessionStart'], ['post-tool', 'PostToolUse']] as const) {
        expect((await runHook(hook, hookInput(event, 'planted'), { FLEET_HOME: home }, [], 15_000)).code).toBe(0);
      }
      expect(readdirSync(target)).toEqual([]);
      expect(statSync(target).mode & 0o777).toBe(0o755);
      expect(readFileSync(join(home, 'logs', 'hooks.log'), 'utf8')).toContain('is a symlink');
    } finally {
      await d2.dispose();
    }
  });

  it('logs/hooks.log planted as a symlink to a file outside FLEET_HOME: the hook does not append to it', async () => {
    const home = tempHome();
    const target = join(outside, 'bashrc');
    writeFileSync(target, 'untouched\n');
    mkdirSync(join(home, 'logs'), { mode: 0o700 });
    symlinkSync(target, join(home, 'logs', 'hooks.log'));
    expect(await runHook('post-tool', 'not json', { FLEET_HOME: home })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    // A logs folder that is a symlink is not followed either.
    const home2 = tempHome();
    const dir = join(outside, 'logs-target');
    mkdirSync(dir, { mode: 0o755 });
    symlinkSync(dir, join(home2, 'logs'));
    expect(await runHook('post-tool', 'not json', { FLEET_HOME: home2 })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readdirSync(dir)).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
  });

  it("a session id with terminal escapes: hooks.log holds none of its control characters", async () => {
    const home = tempHome();
    expect((await runHook('prompt', hookInput('UserPromptSubmit', '\x1b]0;pwned\x07\x1b[2J'), { FLEET_HOME: home })).code).toBe(0);
    const log = readFileSync(join(home, 'logs', 'hooks.log'), 'utf8');
    expect(log).toContain('fleetd is not running');
    expect(log).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });
});
