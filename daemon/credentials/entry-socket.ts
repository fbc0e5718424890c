import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { FleetError } from '../errors.js';
import type { CredentialsService } from './service.js';

/** Most bytes one request line may carry (a 64 KiB value JSON-escaped, plus room). */
const MAX_LINE = 512 * 1024;

const EntryRequest = z.object({ name: z.string().min(1).max(64), value: z.string(), ttl: z.union([z.number().positive(), z.string().min(1).max(32)]).optional() }).strict();

/**
 * The Unix socket `fleetctl secret set` hands values to: one JSON line
 * `{name, value, ttl?}` in, one JSON line out (`{ok, credential}` or `{error}`), answered
 * once credential.stored is durable. Who may connect: the socket is 0600 (bound under
 * umask 0177, so it is never wider) in FLEET_HOME (0700), and it is checked to belong to
 * fleetd's own uid. Node cannot read SO_PEERCRED without native code, so the peer's uid is
 * enforced by the kernel's file permissions rather than checked per connection.
 */
export class EntrySocket {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly service: CredentialsService,
  ) {}

  async start(): Promise<void> {
    // A socket left by a daemon that died: the home lock says no other fleetd owns it now.
    try {
      if (lstatSync(this.path).isSocket()) unlinkSync(this.path);
    } catch {
      /* absent */
    }
    const server = (this.server = createServer((socket) => this.serve(socket)));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(this.path, 0o600);
    const st = lstatSync(this.path);
    if (process.getuid && st.uid !== process.getuid()) throw new FleetError('internal', `${this.path} belongs to uid ${st.uid}, not fleetd's ${process.getuid()}`, 500);
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(60_000, () => socket.destroy());
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl === -1) {
        if (buf.length > MAX_LINE) this.answer(socket, { error: { code: 'bad_credential', message: `request over ${MAX_LINE} bytes` } });
        return;
      }
      socket.off('data', onData);
      void this.handle(buf.slice(0, nl)).then((reply) => this.answer(socket, reply));
      buf = '';
    };
    socket.on('data', onData);
  }

  private async handle(line: string): Promise<Record<string, unknown>> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return { error: { code: 'bad_json', message: 'send one JSON line: {"name": "NAME", "value": "...", "ttl": "1h"}' } };
    }
    const parsed = EntryRequest.safeParse(raw);
    if (!parsed.success) return { error: { code: 'bad_credential', message: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` } };
    try {
      const credential = await this.service.store(parsed.data.name, parsed.data.value, { ttl: parsed.data.ttl, via: 'cli' });
      return { ok: true, credential };
    } catch (e) {
      if (e instanceof FleetError) return e.toJSON() as unknown as Record<string, unknown>;
      console.error(`fleetd: storing a credential failed: ${(e as Error).message}`);
      return { error: { code: 'internal', message: 'internal error; see the fleetd log' } };
    }
  }

  private answer(socket: Socket, reply: Record<string, unknown>): void {
    socket.end(`${JSON.stringify(reply)}\n`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    try {
      unlinkSync(this.path);
    } catch {
      /* gone */
    }
  }
}
