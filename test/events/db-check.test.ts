import { spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FLEETD, FleetdProcess, tempHome } from '../helpers/fleetd.js';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** Runs fleetd on a home until it exits by itself (bounded); returns its exit code and stderr. */
function runUntilExit(home: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETD, '--home', home, '--port', '0'], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
}

function expectClearRefusal(result: { code: number | null; stderr: string }, db: string): void {
  expect(result.code, result.stderr).toBe(4);
  expect(result.stderr).toContain(`the database ${db} is damaged`);
  expect(result.stderr).toMatch(/move it aside/);
  expect(result.stderr).toMatch(/restore it from a backup/);
  expect(result.stderr).toContain(`sqlite3 ${db} .recover`);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('a damaged database gets a clear refusal, not a crash', () => {
  it('a fleet.db that is not a database at all: exit 4 with the file and what to do, every time', async () => {
    const home = tempHome();
    homes.push(home);
    const db = join(home, 'fleet.db');
    writeFileSync(db, randomBytes(64 * 1024), { mode: 0o600 });
    expectClearRefusal(await runUntilExit(home), db);
    // A second start (what a service manager would do) says the same, and the file is left as it was.
    const size = statSync(db).size;
    expectClearRefusal(await runUntilExit(home), db);
    expect(statSync(db).size).toBe(size);
  });

  it('a fleet.db with damaged pages: exit 4; once moved aside fleetd starts on a new log', async () => {
    const fleetd = await new FleetdProcess().start();
    homes.push(fleetd.home);
    for (let i = 0; i < 200; i++) expect((await fleetd.publish('fill.up', `event ${i}`, { data: { pad: 'x'.repeat(500) } })).status).toBe(201);
    expect(await fleetd.stop()).toBe(0);
    const db = join(fleetd.home, 'fleet.db');
    const pageSize = readFileSync(db).readUInt16BE(16);
    const fd = openSync(db, 'r+');
    // Keep page 1 (header and schema), overwrite the pages after it.
    writeSync(fd, randomBytes(pageSize * 8), 0, pageSize * 8, pageSize);
    closeSync(fd);
    expectClearRefusal(await runUntilExit(fleetd.home), db);

    rmSync(db);
    await fleetd.start();
    expect((await fleetd.publish('after.recovery', 'fresh log')).status).toBe(201);
    await fleetd.stop();
  });
});
