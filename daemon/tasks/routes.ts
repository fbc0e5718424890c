import { Hono } from 'hono';
import type { TasksService } from './service.js';

/** /tasks over REST for fleetctl and scripts; the same service as the MCP tools. */
export function taskRoutes(service: TasksService): Hono {
  return new Hono()
    .get('/', (c) => c.json({ tasks: service.list({ member: c.req.query('member'), state: c.req.query('state') }) }))
    .get('/:id', async (c) => {
      const stream = c.req.query('stream');
      const offset = c.req.query('offset');
      const range = stream === 'stdout' || stream === 'stderr' ? { stream: stream as 'stdout' | 'stderr', offset: Math.max(0, Number(offset) || 0), length: Math.min(1024 * 1024, Number(c.req.query('length')) || 65536) } : undefined;
      return c.json({ task: await service.monitor(c.req.param('id'), range) });
    })
    .post('/:id/stop', async (c) => c.json({ task: await service.stop(c.req.param('id')) }))
    .delete('/:id', async (c) => c.json(await service.forget(c.req.param('id'))));
}
