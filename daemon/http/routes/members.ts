import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { FleetError } from '../../errors.js';
import type { MembersService } from '../../members/service.js';
import { ExecuteShape, FetchFilesInput, RegisterInput, SendFilesInput, UpdateShape } from '../../members/schema.js';
import { describeIssues } from './events.js';

/** PATCH body: update_member's fields without the name (it is in the path). */
const { name: _name, ...patchShape } = UpdateShape;
const PatchInput = z.object(patchShape).strict();
/** POST /members/exec body: execute_command's foreground arguments (background tasks have /tasks). */
const { background: _bg, stall_after_s: _stall, ...execShape } = ExecuteShape;
const ExecInput = z.object(execShape).strict();

/** Bytes of NDJSON fleetd holds for a client that reads slower than members print: past it, live output is skipped. */
const LIVE_QUEUE_BYTES = 1024 * 1024;

/**
 * Runs the command on each target and answers NDJSON: each member's output as it comes, one
 * `{"member", "stream": "stdout"|"stderr", "text"}` per line of output (redacted), and one
 * line per member as soon as that member finishes (execute_command's per-member result, whose
 * output repeats what was streamed, capped), so a shell sees output live and fast members first.
 * A client that reads slower than a member prints (endless output) is not queued for without
 * bound: lines that do not fit are dropped and counted in a `{"member", "skipped": bytes}` line.
 */
function execStream(c: Context, service: MembersService, input: z.infer<typeof ExecInput>): Response {
  const names = service.targets(input); // unknown names fail the whole request, before any output
  const signal = c.req.raw.signal;
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        const { member: _m, members: _ms, ...rest } = input;
        // A client gone mid-command cancels the stream; output still arriving then is dropped, not thrown into the member's stream handler.
        const send = (v: unknown) => {
          try {
            controller.enqueue(enc.encode(`${JSON.stringify(v)}\n`));
          } catch {
            // cancelled
          }
        };
        const skipped = new Map<string, number>();
        const owedSkip = (member: string) => {
          const bytes = skipped.get(member);
          if (bytes) send({ member, skipped: bytes });
          skipped.delete(member);
        };
        const live = (member: string, stream: 'stdout' | 'stderr', text: string) => {
          if ((controller.desiredSize ?? 0) <= 0) return void skipped.set(member, (skipped.get(member) ?? 0) + Buffer.byteLength(text));
          owedSkip(member);
          send({ member, stream, text });
        };
        await Promise.all(
          names.map(async (n) => {
            const [r] = await service.execute({ ...rest, member: n }, signal, live).catch((e: unknown) => [
              { member: n, ok: false as const, error: { code: e instanceof FleetError ? e.code : 'internal', message: (e as Error).message } },
            ]);
            owedSkip(n);
            send(r);
          }),
        );
        try {
          controller.close();
        } catch {
          // cancelled
        }
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: LIVE_QUEUE_BYTES }),
  );
  return new Response(body, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' } });
}

/** Least time between two progress lines of one member. */
const PROGRESS_EVERY_MS = 200;

type Progress = (member: string, done: number, total: number) => void;

/**
 * POST /members/send and /fetch. A client that accepts NDJSON (fleetctl cp on a terminal) gets
 * `{"progress": {member, bytes, total}}` lines as bytes move (at most one per member per 200 ms,
 * and the last), then `{"results": [...]}`; any other client gets the results as one JSON body.
 */
async function transfer(c: Context, run: (onProgress?: Progress) => Promise<unknown[]>): Promise<Response> {
  if (!(c.req.header('accept') ?? '').includes('application/x-ndjson')) return c.json({ results: await run() });
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const last = new Map<string, number>();
      const line = (v: unknown) => controller.enqueue(enc.encode(`${JSON.stringify(v)}\n`));
      try {
        const results = await run((member, bytes, total) => {
          const now = Date.now();
          if (bytes < total && now - (last.get(member) ?? 0) < PROGRESS_EVERY_MS) return;
          last.set(member, now);
          line({ progress: { member, bytes, total } });
        });
        line({ results });
      } catch (e) {
        line({ error: { code: e instanceof FleetError ? e.code : 'internal', message: (e as Error).message } });
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' } });
}

async function body<T>(c: Context, schema: z.ZodType<T>, example: string): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new FleetError('bad_json', `request body is not valid JSON: send ${example}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new FleetError('bad_member', `bad member request: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** /members: the registry over REST for fleetctl and scripts; the same service as the MCP tools. */
export function memberRoutes(service: MembersService): Hono {
  return new Hono()
    .get('/', (c) => c.json({ members: service.list() }))
    .post('/exec', async (c) => execStream(c, service, await body(c, ExecInput, '{"member": "web-1", "command": "uptime"}')))
    .post('/send', async (c) => {
      const input = await body(c, SendFilesInput, '{"member": "web-1", "files": [{"local": "/abs/file", "remote": "/tmp/"}]}');
      return transfer(c, (onProgress) => service.sendFiles(input, onProgress));
    })
    .post('/fetch', async (c) => {
      const input = await body(c, FetchFilesInput, '{"member": "web-1", "files": [{"remote": "/etc/hostname", "local": "/abs/dir/"}]}');
      return transfer(c, (onProgress) => service.fetchFiles(input, onProgress));
    })
    .post('/', async (c) => c.json({ member: await service.register(await body(c, RegisterInput, '{"name": "web-1", "host": "10.0.0.5", "user": "deploy"}')) }, 201))
    .get('/:name', (c) => c.json({ member: service.detail(c.req.param('name')) }))
    .patch('/:name', async (c) => c.json(await service.update({ ...(await body(c, PatchInput, '{"accept_new_host_key": true}')), name: c.req.param('name') })))
    .delete('/:name', async (c) => c.json(await service.remove(c.req.param('name'))));
}
