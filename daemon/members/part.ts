import type { FleetContext, FleetPart } from '../context.js';
import { memberRoutes } from '../http/routes/members.js';
import { memberTools } from '../tools/members.js';
import { MembersService } from './service.js';

/** The members feature: registry, pooled SSH connections, liveness events, tools and routes. */
export function membersPart(ctx: FleetContext): FleetPart {
  const service = new MembersService(ctx);
  return {
    name: 'members',
    status: () => ({ members: service.summary() }),
    tools: (server) => memberTools(server, service),
    routes: (app) => {
      app.route('/members', memberRoutes(service));
    },
    stop: () => service.stop(),
  };
}
