import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { startTask, waitForTask } from './lib.js';

describe('background tasks given odd input', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  const rest = async (path: string, init: RequestInit = {}) => fetch(`${fleetd.url}${path}`, { ...init, headers: { authorization: `Bearer ${fleetd.token}` } });

  beforeAll(async () => {
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { stopGrace: 1 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('{{secure.NAME}} of an unknown credential: the start fails naming it, and no task is left "starting"', { timeout: 60_000 }, async () => {
    for (const extra of [{}, { env: { TOKEN: '{{secure.NOPE}}' } }]) {
      const command = 'env' in extra ? 'echo "$TOKEN"' : 'echo {{secure.NOPE}}';
      await expect(startTask(mcp, 'box', command, extra)).rejects.toThrow(/NOPE/);
    }
    const { tasks } = await mcp.call<{ tasks: { id: string; state: string }[] }>('list_tasks', {});
    expect(tasks).toEqual([]);
  });
});
