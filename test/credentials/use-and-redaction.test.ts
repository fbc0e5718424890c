import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetdProcess } from '../helpers/fleetd.js';
import type { McpTestClient } from '../helpers/mcp.js';
import { sshMember, startFleetd, textOf, type MemberResult } from '../helpers/members.js';
import { Sshd } from '../helpers/sshd.js';
import { socketStore } from './helpers.js';

/** Every file under a folder, recursively (sockets and folders skipped). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    const st = statSync(p);
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
  });
}

describe('{{secure.NAME}} on a real sshd member, and redaction everywhere', () => {
  let sshd: Sshd;
  let fleetd: FleetdProcess;
  let mcp: McpTestClient;
  // Random, so no file can hold it by chance; quotes and a backslash test the JSON-escaped form too.
  const secret = `S3cr3t-${randomBytes(12).toString('hex')}`;
  const sha = createHash('sha256').update(secret).digest('hex');

  beforeAll(async () => {
    sshd = await Sshd.start();
    ({ fleetd, mcp } = await startFleetd());
    await mcp.call('register_member', sshMember('node-a', sshd));
    await mcp.call('register_member', sshMember('node-b', sshd));
    await mcp.call('credential_store_set', { name: 'deploy_token', members: ['node-a'] });
    expect(await socketStore(fleetd.home, { name: 'deploy_token', value: secret })).toMatchObject({ ok: true });
  }, 60_000);
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await fleetd?.dispose();
    await sshd?.dispose();
  });

  it('fills the value in on fleetd for a member in scope (command and env), and redacts it in the output', { timeout: 30_000 }, async () => {
    const r = await mcp.raw('execute_command', {
      member: 'node-a',
      command: "printf %s '{{secure.deploy_token}}' | sha256sum; echo \"token={{ secure.deploy_token }}\"; echo \"$TOKEN\" >&2",
      env: { TOKEN: 'Bearer {{secure.deploy_token}}' },
    });
    const text = textOf(r);
    expect(r.isError, text).toBeFalsy();
    const res = (r.structuredContent as { results: MemberResult[] }).results[0]!;
    expect(res.stdout).toContain(sha); // the member really had the value
    expect(res.stdout).toContain('token=[REDACTED:deploy_token]');
    expect(res.stderr).toContain('Bearer [REDACTED:deploy_token]');
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('refuses a member outside the scope with a clear error that never carries the value', { timeout: 30_000 }, async () => {
    const r = await mcp.raw('execute_command', { members: ['node-a', 'node-b'], command: 'echo {{secure.deploy_token}}' });
    const results = (r.structuredContent as { results: (MemberResult & { error?: { code: string; message: string } })[] }).results;
    const b = results.find((x) => x.member === 'node-b')!;
    expect(b.ok).toBe(false);
    expect(b.error).toMatchObject({ code: 'credential_out_of_scope' });
    expect(b.error!.message).toMatch(/credential deploy_token may not be used on member node-b: its scope is node-a/);
    expect(results.find((x) => x.member === 'node-a')!.stdout).toBe('[REDACTED:deploy_token]\n');
    const unknown = await mcp.raw('execute_command', { member: 'node-a', command: 'echo {{secure.nope_nope}}' });
    expect(textOf(unknown)).toMatch(/no credential named "nope_nope"/);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('fills the value in for a background task too, which stores and shows only the placeholder and redacts its output', { timeout: 60_000 }, async () => {
    const r = await mcp.call<{ results: { member: string; task?: { id: string }; id?: string }[] }>('execute_command', {
      member: 'node-a',
      background: true,
      command: "printf %s '{{secure.deploy_token}}' | sha256sum; echo \"bg={{secure.deploy_token}}\"; echo \"$TOKEN\" >&2",
      env: { TOKEN: 'Bearer {{secure.deploy_token}}' },
    });
    expect(JSON.stringify(r)).not.toContain(secret);
    const id = JSON.stringify(r).match(/"(t-[0-9a-f]{16})"/)![1]!;
    await mcp.waitForPushed('the task to end', (es) => es.some((e) => e.subject === id && e.topic === 'task.completed'), 30_000);
    const done = mcp.pushed.find((e) => e.subject === id && e.topic === 'task.completed')!;
    expect(JSON.stringify(done)).toContain(sha); // the member really had the value
    expect(JSON.stringify(done)).toContain('bg=[REDACTED:deploy_token]');
    const shown = await mcp.call<{ task: { command: string; stdoutTail: string; stderrTail: string } }>('monitor_task', { task_id: id });
    expect(shown.task.command).toContain('{{secure.deploy_token}}');
    expect(shown.task.stdoutTail).toContain('bg=[REDACTED:deploy_token]');
    expect(shown.task.stderrTail).toContain('Bearer [REDACTED:deploy_token]');
    expect(JSON.stringify(shown)).not.toContain(secret);
    expect(JSON.stringify(mcp.pushed)).not.toContain(secret);
  });

  it('redacts the value from events (published ones too) and error output, then no file under FLEET_HOME holds its bytes, WAL included', { timeout: 30_000 }, async () => {
    const failed = await mcp.raw('execute_command', { member: 'node-a', command: 'echo "failing with {{secure.deploy_token}}" >&2; exit 3' });
    expect(JSON.stringify(failed)).not.toContain(secret);
    expect(JSON.stringify(failed)).toContain('[REDACTED:deploy_token]');
    const ev = await mcp.call<{ event: { message: string; data: unknown } }>('publish_event', { topic: 'leak.test', message: `oops ${secret}`, data: { nested: [secret, `"${secret}"`] } });
    expect(ev.event.message).toBe('oops [REDACTED:deploy_token]');
    expect(JSON.stringify(ev)).not.toContain(secret);
    await mcp.waitForPushed('leak.test', (es) => es.some((e) => e.topic === 'leak.test'));
    expect(JSON.stringify(mcp.pushed)).not.toContain(secret);
    const waited = await mcp.call('wait_for_events', { since: 0, timeout_s: 1, limit: 1000 });
    expect(JSON.stringify(waited)).not.toContain(secret);
    const bytes = Buffer.from(secret);
    const scan = () => {
      const files = filesUnder(fleetd.home);
      expect(files.some((f) => f.endsWith('fleet.db-wal'))).toBe(true);
      return files.filter((f) => readFileSync(f).includes(bytes));
    };
    expect(scan()).toEqual([]);
    await mcp.close();
    await fleetd.stop();
    expect(filesUnder(fleetd.home).filter((f) => readFileSync(f).includes(bytes))).toEqual([]);
  });
});
