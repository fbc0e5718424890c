import type { ToolRegistry } from '../mcp/tool-registry.js';
import { z } from 'zod';
import type { CredentialsService, CredentialView } from '../credentials/service.js';
import { fail, guarded, ok } from './result.js';

/** The key of the URL-mode elicitation that points at the one-time entry page. */
const ENTRY_PAGE = 'entry_page';

const name = z.string().min(1).max(64).describe('credential name: letters, digits, _ . - (e.g. e2e_bb_token)');
const ttl = z.union([z.number().positive(), z.string().min(1).max(32)]).describe('time to live once stored: seconds or a duration like 90s, 10m, 1h, 7d');
const members = z.array(z.string().min(1).max(63)).min(1).max(1000).describe('members allowed to use it in {{secure.NAME}} (default: every member)');

function line(c: CredentialView): string {
  const left = c.timeLeftS !== undefined ? `, ${c.timeLeftS} s left` : '';
  const scope = c.members === 'all' ? 'all members' : c.members.join(', ');
  return `${c.name}: ${c.state}${left} (${scope})${c.description ? ` ${c.description}` : ''}`;
}

/** MCP tools for credentials: ask for one, list, change, delete. No tool ever takes or returns a value. */
export function credentialTools(server: ToolRegistry, service: CredentialsService): void {
  server.registerTool(
    'credential_store_set',
    {
      title: 'Ask the user for a secret',
      description:
        'Asks the user for a secret that you never see: returns at once with what the user must do (run `fleetctl secret set NAME`, input hidden, or open a one-time local page) and emits credential.requested. ' +
        'When the user has entered it, credential.stored ("✓ Secret stored: NAME") is pushed to every session; wait for it with wait_for_events topics ["credential.*"]. ' +
        'Then use it as {{secure.NAME}} in execute_command (command or env): fleetd fills it in for members in scope, and every occurrence of the value in output becomes [REDACTED:NAME].',
      inputSchema: { name, description: z.string().max(500).optional().describe('what it is for, shown to the user'), ttl: ttl.optional(), members: members.optional() },
    },
    (args, extra) => {
      // 2026-07-28 with URL elicitation: the client opens the one-time page itself, and the retried call returns once the value is stored.
      const input = extra.input?.urlElicitation ? extra.input : undefined;
      const answer = input?.answered(ENTRY_PAGE);
      if (answer === 'accept') return guarded(async () => ok(`✓ Secret stored: ${args.name}`, { credential: await service.whenStored(args.name, extra.signal) }));
      if (answer !== undefined) return fail(`The user did not enter ${args.name} (${answer}). Ask again with credential_store_set when they want to.`);
      return guarded(async () => {
        const r = await service.request(args);
        if (input && r.url) return input.askUrl(ENTRY_PAGE, `Enter the secret ${args.name}${args.description ? ` (${args.description})` : ''} on fleetd's one-time local page; it never passes through the assistant.`, r.url);
        return ok(r.note, r);
      });
    },
  );

  server.registerTool(
    'credential_store_list',
    {
      title: 'List credentials',
      description: 'Every credential: name, description, scope, state (requested, stored, expired, unreadable) and time left. Never a value.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      guarded(() => {
        const credentials = service.list();
        return ok(credentials.length ? `${credentials.length} credential(s):\n${credentials.map(line).join('\n')}` : 'No credentials yet; ask for one with credential_store_set.', { credentials });
      }),
  );

  server.registerTool(
    'credential_store_update',
    {
      title: 'Change a credential',
      description: "Changes a credential's description, scope (members; null = every member) or ttl (runs from now; null = no expiry). The value is changed only by the user (`fleetctl secret set`).",
      inputSchema: { name, description: z.string().max(500).nullable().optional(), members: members.nullable().optional(), ttl: ttl.nullable().optional() },
    },
    (args) => guarded(() => ok(`Credential ${args.name} updated.`, { credential: service.update(args) })),
  );

  server.registerTool(
    'credential_store_delete',
    { title: 'Delete a credential', description: 'Deletes a credential and erases its value; emits credential.deleted.', inputSchema: { name } },
    (args) => guarded(async () => ok(`Credential ${args.name} deleted.`, await service.delete(args.name))),
  );
}
