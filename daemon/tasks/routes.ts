import { Hono } from 'hono';
import { FleetError } from '../errors.js';
import type { TasksService } from './service.js';

/** Most bytes one range read asks for (monitor_task's limit too). */
const MAX_LENGTH = 1024 * 1024;

/** A query number that must be a whole number in [min, max], or its default when absent; anything else is refused. */
function whole(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return dflt;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new FleetError('bad_task', `${name} must be a whole number from ${min} to ${max}, not "${raw.slice(0, 40)}"`);
  return n;
}

/** /tasks over REST for fleetctl and scripts; the same service as the MCP tools. */
export function taskRoutes(service: TasksService): Hono {
  return new Hono()
    .get('/', (c) => c.json({ tasks: service.list({ member: c.req.query('member'), state: c.req.query('state') }) }))
    .get('/:id', async (c) => {
      const stream = c.req.query('stream');
      // Checked like monitor_task's: a range read silently from somewhere else would mislead a reader resuming at nextOffset.
      const range =
        stream === 'stdout' || stream === 'stderr'
          ? { stream: stream as 'stdout' | 'stderr', offset: whole('offset', c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER), length: whole('length', c.req.query('length'), 65536, 1, MAX_LENGTH) }
          : undefined;
      return c.json({ task: await service.monitor(c.req.param('id'), range) });
    })
    .post('/:id/stop', async (c) => c.json({ task: await service.stop(c.req.param('id')) }))
    .delete('/:id', async (c) => c.json(await service.forget(c.req.param('id'))));
}
