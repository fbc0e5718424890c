import type { FleetPart, PartDeps } from '../context.js';
import { memberRoutes } from '../http/routes/members.js';
import { memberTools } from '../tools/members.js';
import { MembersService } from './service.js';

declare module '../services.js' {
  interface FleetServices {
    /** Registered members, their connections, commands and file transfers (tasks run on it). */
    members: MembersService;
  }
}

/** The members feature: registry, pooled SSH connections, liveness events, tools and routes. */
export function membersPart({ ctx, services }: PartDeps): FleetPart {
  const service = new MembersService(ctx, services.has('credentials') ? services.get('credentials') : undefined);
  return {
    name: 'members',
    provides: { members: service },
    instructions:
      'Members: register_member adds a machine (SSH, or kind "local" for this one), update_member, remove_member, list_members and member_detail manage them; ' +
      'execute_command runs a shell command on one member, several or "all" in parallel; send_files and fetch_files copy files and folders to and from members over SFTP, hash-verified.',
    status: () => ({ members: service.summary() }),
    tools: (server) => memberTools(server, service),
    routes: (app) => {
      app.route('/members', memberRoutes(service));
    },
    stop: () => service.stop(),
  };
}
