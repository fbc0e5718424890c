import { describe, expect, it } from 'vitest';
import { hookInvocation } from '../../../../daemon/fleetctl/hooks/argv.js';
import { isFleetCommand, withFleetHooks, withoutFleetHooks } from '../../../../daemon/fleetctl/hooks/settings.js';

describe('fleetctl main sends only hook command lines down the light path', () => {
  it('reads hook lines with global options before or after, in both spellings', () => {
    expect(hookInvocation(['hook', 'post-tool'])).toEqual({ name: 'post-tool' });
    expect(hookInvocation(['--home', '/h', 'hook', 'stop', '--url=http://127.0.0.1:1'])).toEqual({ name: 'stop', home: '/h', url: 'http://127.0.0.1:1' });
    expect(hookInvocation(['hook', 'prompt', '--token-file', '/t'])).toEqual({ name: 'prompt', tokenFile: '/t' });
  });

  it('leaves everything else to the full CLI: help, unknown hooks, other commands, dangling values', () => {
    for (const args of [[], ['hook'], ['hook', '--help'], ['hook', 'prompt', '--help'], ['hook', 'nope'], ['hooks', 'install'], ['events'], ['hook', 'stop', '--home'], ['hook', 'stop', 'extra']]) {
      expect(hookInvocation(args), args.join(' ')).toBeUndefined();
    }
  });
});

describe('settings merge', () => {
  it('knows its own commands and no one else\'s', () => {
    expect(isFleetCommand('fleetctl hook post-tool')).toBe(true);
    expect(isFleetCommand('node /opt/fleet/dist/daemon/fleetctl/main.js --home "/x" hook stop')).toBe(true);
    expect(isFleetCommand('my-hook post-tool')).toBe(false);
    expect(isFleetCommand('fleetctl events --follow')).toBe(false);
  });

  it('keeps a group that mixes ours with theirs, minus ours', () => {
    const mixed = { hooks: { Stop: [{ hooks: [{ type: 'command', command: 'fleetctl hook stop' }, { type: 'command', command: 'say done' }] }] } };
    expect(withoutFleetHooks(mixed)).toEqual({ settings: { hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } }, removed: 1 });
    const twice = withFleetHooks(withFleetHooks(mixed, { command: 'fleetctl', stopTimeoutS: 60 }), { command: 'fleetctl', stopTimeoutS: 60 });
    expect(twice.hooks!.Stop!.flatMap((g) => g.hooks!.map((h) => h.command))).toEqual(['say done', 'fleetctl hook stop']);
  });
});
