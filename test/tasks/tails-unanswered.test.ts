import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
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

  it('the end is still pushed, without tails and marked tailsUnread; the next task gets its tails', { timeout: 60_000 }, async () => {
    // The task swaps its own out file for a FIFO: the member's SFTP server blocks opening it.
    const where = join(dir, 'out-path');
    const stuck = await startTask(mcp, 'box', `o=$(readlink /proc/$$/fd/1); rm -f "$o"; mkfifo "$o"; printf '%s' "$o" > ${where}; echo lost`);
    const ended = await waitForTask(mcp, stuck, 'task.completed', 20_000);
    expect(ended.data).toMatchObject({ exitCode: 0, stdoutTail: '', stderrTail: '', tailsUnread: true });
    const fifo = readFileSync(where, 'utf8'); // written before the task ended

    // The stuck session was given up: a fresh one reads the next task's tails.
    const next = await startTask(mcp, 'box', 'echo next; echo warn >&2');
    const done = await waitForTask(mcp, next, 'task.completed', 20_000);
    expect(done.data).toMatchObject({ exitCode: 0, stdoutTail: 'next', stderrTail: 'warn' });
    expect(done.data).not.toHaveProperty('tailsUnread');

    // Lets the member's stuck open return (a writer is all it waits for); it may be gone already.
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader left
    }
  });
});
