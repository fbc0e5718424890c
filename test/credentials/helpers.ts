import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FLEETCTL } from '../helpers/fleetd.js';

/** Runs `fleetctl secret set` inside a pseudo-terminal (util-linux `script`), typing the value once the hidden prompt shows. */
export function secretSetOnTty(home: string, name: string, value: string, extra: string[] = []): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const cmd = [process.execPath, FLEETCTL, '--home', home, 'secret', 'set', name, ...extra].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const p = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FLEET_TOKEN: '' } });
    let screen = '';
    let typed = false;
    p.stdout.on('data', (d) => {
      screen += d.toString();
      if (!typed && screen.includes('(input hidden): ')) {
        typed = true;
        p.stdin.write(`${value}\r`);
      }
    });
    p.stderr.on('data', (d) => (screen += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, screen }));
  });
}

/** Runs `fleetctl secret set` with the value piped on stdin. */
export function secretSetPiped(home: string, name: string, stdin: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FLEETCTL, '--home', home, 'secret', 'set', name, ...extra], { env: { ...process.env, FLEET_TOKEN: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

/** One request on FLEET_HOME/auth.sock, as fleetctl sends it. */
export function socketStore(home: string, req: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = connect(join(home, 'auth.sock'));
    let buf = '';
    s.on('connect', () => s.write(`${JSON.stringify(req)}\n`));
    s.on('data', (d) => (buf += d));
    s.on('end', () => resolve(JSON.parse(buf) as Record<string, unknown>));
    s.on('error', reject);
  });
}
