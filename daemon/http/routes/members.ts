import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { FleetError } from '../../errors.js';
import type { MembersService } from '../../members/service.js';
import { RegisterInput, UpdateShape } from '../../members/schema.js';
import { describeIssues } from './events.js';

/** PATCH body: update_member's fields without the name (it is in the path). */
const { name: _name, ...patchShape } = UpdateShape;
const PatchInput = z.object(patchShape).strict();

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
    .post('/', async (c) => c.json({ member: await service.register(await body(c, RegisterInput, '{"name": "web-1", "host": "10.0.0.5", "user": "deploy"}')) }, 201))
    .get('/:name', (c) => c.json({ member: service.detail(c.req.param('name')) }))
    .patch('/:name', async (c) => c.json(await service.update({ ...(await body(c, PatchInput, '{"accept_new_host_key": true}')), name: c.req.param('name') })))
    .delete('/:name', async (c) => c.json(await service.remove(c.req.param('name'))));
}
