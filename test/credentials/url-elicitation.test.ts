import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { ModernTestClient } from '../helpers/modern-mcp.js';

describe('credential_store_set over MCP 2026-07-28 with URL-mode elicitation', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess({ config: { mcp: { modern: true } } }).start();
  });
  afterAll(() => fleetd.dispose());

  it('points the client at the one-time entry page; the retried call returns once the value is stored', async () => {
    const asked: { mode?: string; url?: string; message?: string }[] = [];
    const c = await ModernTestClient.connect(fleetd, { elicitation: { url: {} } }, (m) =>
      m.client.setRequestHandler('elicitation/create', async (req) => {
        const p = req.params as { mode?: string; url?: string; message?: string };
        asked.push(p);
        // The user opens the page and submits the value; the assistant never sees it.
        expect((await fetch(p.url!)).status).toBe(200);
        const code = new URL(p.url!).searchParams.get('code')!;
        const post = await fetch(`${fleetd.url}/credentials/enter`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fleetd.url },
          body: new URLSearchParams({ code, value: 'url-mode-value-42' }).toString(),
          redirect: 'manual',
        });
        expect(post.status).toBeLessThan(400);
        return { action: 'accept' };
      }),
    );
    try {
      const r = await c.client.callTool({ name: 'credential_store_set', arguments: { name: 'url_mode_secret', description: 'for the test' } });
      expect(r.isError).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ mode: 'url' });
      expect(asked[0]!.url).toMatch(new RegExp(`^${fleetd.url}/credentials/enter\\?code=`));
      expect(r.structuredContent).toMatchObject({ credential: { name: 'url_mode_secret', state: 'stored' } });
      expect(JSON.stringify(r)).not.toContain('url-mode-value-42');
    } finally {
      await c.close();
    }
  });

  it('a declined elicitation ends the call with a clear message; a client without URL elicitation gets the page and the command in the result', async () => {
    const declining = await ModernTestClient.connect(fleetd, { elicitation: { url: {} } }, (m) => m.client.setRequestHandler('elicitation/create', async () => ({ action: 'decline' })));
    try {
      const r = await declining.client.callTool({ name: 'credential_store_set', arguments: { name: 'declined_secret' } });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toContain('did not enter declined_secret (decline)');
    } finally {
      await declining.close();
    }
    const plain = await ModernTestClient.connect(fleetd);
    try {
      const r = await plain.call<{ command: string; url: string }>('credential_store_set', { name: 'plain_secret' });
      expect(r.command).toBe('fleetctl secret set plain_secret');
      expect(r.url).toMatch(/\/credentials\/enter\?code=/);
    } finally {
      await plain.close();
    }
  });
});
