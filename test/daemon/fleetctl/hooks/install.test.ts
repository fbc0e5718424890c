import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FLEETCTL, tempHome } from '../../../helpers/fleetd.js';

/** Runs fleetctl with HOME (and so ~/.claude) in a temp folder, from `cwd`. */
function ctl(args: string[], home: string, cwd = home): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETCTL, ...args], { cwd, env: { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: '', FLEET_HOME: join(home, '.fleet') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A user's settings with hooks of their own that fleet must leave alone. */
const THEIRS = {
  permissions: { allow: ['Bash(npm test)'] },
  hooks: {
    PostToolUse: [{ matcher: 'Edit|Write', hooks: [{ type: 'command', command: 'prettier --write "$FILE"' }] }],
    Stop: [{ hooks: [{ type: 'command', command: '~/bin/notify-done', timeout: 5 }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'guard-bash' }] }],
  },
};

describe('fleetctl hooks install|uninstall', () => {
  it('merges fleet hooks into a user settings.json that already holds others, idempotently; uninstall leaves the others exactly as they were', async () => {
    const home = tempHome();
    const file = join(home, '.claude', 'settings.json');
    mkdirSync(join(home, '.claude'));
    writeFileSync(file, JSON.stringify(THEIRS, null, 2));

    for (let i = 0; i < 2; i++) {
      const r = await ctl(['hooks', 'install'], home);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`in ${file}`);
    }
    const merged = JSON.parse(readFileSync(file, 'utf8'));
    expect(merged.permissions).toEqual(THEIRS.permissions);
    expect(merged.hooks.PreToolUse).toEqual(THEIRS.hooks.PreToolUse);
    expect(merged.hooks.PostToolUse).toEqual([...THEIRS.hooks.PostToolUse, { matcher: '*', hooks: [{ type: 'command', command: 'fleetctl hook post-tool', timeout: 10 }] }]);
    expect(merged.hooks.Stop).toEqual([...THEIRS.hooks.Stop, { hooks: [{ type: 'command', command: 'fleetctl hook stop', timeout: 60 }] }]);
    expect(merged.hooks.SessionStart).toEqual([{ hooks: [{ type: 'command', command: 'fleetctl hook session-start', timeout: 10 }] }]);
    expect(merged.hooks.UserPromptSubmit).toEqual([{ hooks: [{ type: 'command', command: 'fleetctl hook prompt', timeout: 10 }] }]);

    const r = await ctl(['hooks', 'uninstall'], home);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('removed 4 fleet hook(s)');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(THEIRS);
    expect((await ctl(['hooks', 'uninstall'], home)).stdout).toContain('no fleet hooks in');
  });

  it('--scope project writes ./.claude/settings.json; --home and --command go into the commands; the Stop timeout follows hooks.stopWait', async () => {
    const home = tempHome();
    const project = join(home, 'repo');
    mkdirSync(project);
    const fleetHome = join(home, 'fleet home');
    mkdirSync(fleetHome);
    writeFileSync(join(fleetHome, 'config.json'), JSON.stringify({ hooks: { stopWait: '2m' } }));
    const r = await ctl(['hooks', 'install', '--scope', 'project', '--home', fleetHome, '--command', 'node /opt/fleet/dist/daemon/fleetctl/main.js'], home, project);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home, '.claude', 'settings.json'))).toBe(false);
    const s = JSON.parse(readFileSync(join(project, '.claude', 'settings.json'), 'utf8'));
    expect(s.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: `node /opt/fleet/dist/daemon/fleetctl/main.js --home "${fleetHome}" hook stop`, timeout: 130 }] }]);
    expect((await ctl(['hooks', 'uninstall', '--scope', 'project'], home, project)).stdout).toContain('removed 4');
    expect(JSON.parse(readFileSync(join(project, '.claude', 'settings.json'), 'utf8'))).toEqual({});
  });

  it('a settings.json that is not JSON is left untouched, with an error naming it', async () => {
    const home = tempHome();
    mkdirSync(join(home, '.claude'));
    const file = join(home, '.claude', 'settings.json');
    writeFileSync(file, '{"hooks": ');
    const r = await ctl(['hooks', 'install'], home);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file} is not valid JSON`);
    expect(readFileSync(file, 'utf8')).toBe('{"hooks": ');
  });
});
