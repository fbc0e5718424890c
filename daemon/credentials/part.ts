import { join } from 'node:path';
import type { FleetPart, PartDeps } from '../context.js';
import { credentialTools } from '../tools/credentials.js';
import { mountEntryPage } from './entry-page.js';
import { EntrySocket } from './entry-socket.js';
import { credentialRoutes } from './routes.js';
import { CredentialsService } from './service.js';

declare module '../services.js' {
  interface FleetServices {
    /** The vault: `{{secure.NAME}}` expansion for members and tasks. */
    credentials: CredentialsService;
  }
}

/** The credentials feature: encrypted vault, entry socket and one-time page, TTL timers, tools and routes. */
export async function credentialsPart({ ctx }: PartDeps): Promise<FleetPart> {
  const service = new CredentialsService(ctx);
  const socket = new EntrySocket(join(ctx.paths.home, 'auth.sock'), service);
  try {
    await socket.start();
  } catch (e) {
    service.stop();
    throw e;
  }
  return {
    name: 'credentials',
    provides: { credentials: service },
    instructions:
      'Credentials: credential_store_set asks the user for a secret you never see (they enter it with `fleetctl secret set NAME` or a one-time local page) and credential.stored follows; ' +
      'use it as {{secure.NAME}} in execute_command, where its value in output shows as [REDACTED:NAME]. credential_store_list, credential_store_update and credential_store_delete manage them.',
    status: () => ({ credentials: service.summary() }),
    tools: (server) => credentialTools(server, service),
    routes: (app) => {
      app.route('/credentials', credentialRoutes(service));
    },
    publicRoutes: mountEntryPage(service),
    stop: async () => {
      service.stop();
      await socket.stop();
    },
  };
}
