import type { FleetPart, PartDeps } from '../context.js';
import { ciTools } from '../tools/ci.js';
import { ciRoutes } from './routes.js';
import { CiService } from './service.js';
import { mountWebhook } from './webhook.js';

declare module '../services.js' {
  interface FleetServices {
    /** CI status: the GitHub webhook, polled watches, and ci.status on each flip. */
    ci: CiService;
  }
}

/** The CI feature: POST /webhooks/github and GitHub polling, both ending in one ci.status per flip. */
export function ciPart({ ctx, services }: PartDeps): FleetPart {
  const service = new CiService(ctx, services.get('credentials'));
  service.start();
  return {
    name: 'ci',
    provides: { ci: service },
    instructions:
      'CI: watch_ci follows a GitHub repository\'s CI (workflow runs, check runs, statuses) through GitHub\'s API; GitHub webhooks sent to fleetd do the same without polling. ' +
      'Each flip (pending to a conclusion, success to failure and back) arrives once as a ci.status event {repo, branch, sha, workflow, state, conclusion, url}. unwatch_ci stops a watch, list_ci_watches shows them with their known states.',
    status: () => ({ ci: service.summary() }),
    tools: (server) => ciTools(server, service),
    routes: (app) => {
      app.route('/ci', ciRoutes(service, { url: ctx.url, secretCredential: ctx.config.ci.webhookSecretCredential }));
    },
    publicRoutes: mountWebhook(service),
    stop: () => service.stop(),
  };
}
