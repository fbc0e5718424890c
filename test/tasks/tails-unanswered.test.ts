import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess, until } from '../helpers/fleetd.js';
import { McpTestClient } from '../helpers/mcp.js';
import { FAST_MEMBERS, sshMember } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { startTask, waitForTask } from './lib.js';

// The fallback poll is set to a minute: the ends here are told by the watcher, and only the tail read is stuck.
describe('a member that does not answer the read of a task output tail', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-tails-'));
    sshd = await Sshd.start();
    fleetd = await new FleetdProcess({ config: { members: FAST_MEMBERS, tasks: { poll: 60 } } }).start();
    mcp = await McpTestClient.connect(fleetd);
    await mcp.call('register_member', sshMember('box', sshd));
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends are still pushed, without tails and marked tailsUnread, until the member answers; then tails are read again', { timeout: 90_000 }, async () => {
    // The task swaps its own out file for a FIFO: the member's SFTP server blocks opening it.
    const where = join(dir, 'out-path');
    const stuck = await startTask(mcp, 'box', `o=$(readlink /proc/$$/fd/1); rm -f "$o"; mkfifo "$o"; printf '%s' "$o" > ${where}; echo lost`);
    const ended = await waitForTask(mcp, stuck, 'task.completed', 20_000);
    expect(ended.data).toMatchObject({ exitCode: 0, stdoutTail: '', stderrTail: '', tailsUnread: true });
    const fifo = readFileSync(where, 'utf8'); // written before the task ended

    // Still stuck: the next end is not held back either (and no second session is opened).
    const during = await startTask(mcp, 'box', 'echo during');
    expect((await waitForTask(mcp, during, 'task.completed', 20_000)).data).toMatchObject({ exitCode: 0, tailsUnread: true });

    // A writer is all the stuck open waits for; once the given-up session closes, a fresh one reads.
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    const done = await until('a task end with its tails read again', async () => {
      const next = await startTask(mcp, 'box', 'echo next; echo warn >&2');
      const e = await waitForTask(mcp, next, 'task.completed', 20_000);
      return (e.data as { tailsUnread?: boolean }).tailsUnread ? undefined : e;
    }, 30_000);
    expect(done.data).toMatchObject({ exitCode: 0, stdoutTail: 'next', stderrTail: 'warn' });
  });
});
