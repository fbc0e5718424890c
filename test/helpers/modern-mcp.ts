import { Client, StreamableHTTPClientTransport, type ClientCapabilities, type McpSubscription, type Transport } from '@modelcontextprotocol/client';
import type { FleetdProcess } from './fleetd.js';
import type { FleetEventLike } from './mcp.js';

/** One resources/read page of a fleet://events resource. */
export interface EventsPage {
  events: FleetEventLike[];
  cursor: number;
  lastId: number;
  more: boolean;
}

/** A notifications/resources/updated as a listen stream delivered it. */
export interface ResourceUpdate {
  uri: string;
  eventId: number | undefined;
}

/** An SDK v2 client in the 2026-07-28 era (pinned, no fallback) against a real fleetd. */
export class ModernTestClient {
  readonly client: Client;
  readonly updates: ResourceUpdate[] = [];
  private waiters: (() => void)[] = [];

  private constructor(capabilities: ClientCapabilities = {}) {
    this.client = new Client({ name: 'fleet-modern-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities });
    this.client.setNotificationHandler('notifications/resources/updated', (n) => {
      const meta = n.params._meta as Record<string, unknown> | undefined;
      this.updates.push({ uri: n.params.uri, eventId: meta?.['fleet/eventId'] as number | undefined });
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /**
   * Connects to /mcp (the connect is a server/discover). Each request goes to fleetd's
   * current URL, so the same client carries on across a restart on a new port.
   */
  static async connect(fleetd: FleetdProcess, capabilities?: ClientCapabilities, setup?: (c: ModernTestClient) => void): Promise<ModernTestClient> {
    const follow = (u: string | URL, init?: RequestInit) => fetch(String(u).replace(/^http:\/\/[^/]+/, fleetd.url), init);
    return ModernTestClient.over(new StreamableHTTPClientTransport(new URL(`${fleetd.url}/mcp`), { requestInit: { headers: fleetd.auth }, fetch: follow }), capabilities, setup);
  }

  /** Connects over any transport (fleet-bridge's stdio, for one). */
  static async over(transport: Transport, capabilities?: ClientCapabilities, setup?: (c: ModernTestClient) => void): Promise<ModernTestClient> {
    const c = new ModernTestClient(capabilities);
    setup?.(c);
    await c.client.connect(transport);
    return c;
  }

  /** Opens a subscriptions/listen stream for resource updates. */
  listen(uris: string[]): Promise<McpSubscription> {
    return this.client.listen({ resourceSubscriptions: uris });
  }

  /** Reads one page of an event resource. */
  async read(uri: string): Promise<EventsPage> {
    const r = await this.client.readResource({ uri });
    return JSON.parse((r.contents[0] as { text: string }).text) as EventsPage;
  }

  /**
   * Reads `uri` from `cursor` until nothing more is there; returns the events and the new
   * cursor (what a client does when told a resource was updated).
   */
  async drain(uri: string, cursor: number): Promise<{ events: FleetEventLike[]; cursor: number }> {
    const events: FleetEventLike[] = [];
    for (;;) {
      const page = await this.read(`${uri}${uri.includes('?') ? '&' : '?'}after=${cursor}`);
      events.push(...page.events);
      cursor = page.cursor;
      if (!page.more) return { events, cursor };
    }
  }

  /** Calls a tool and returns its structured result (throws when the tool failed). */
  async call<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent as T;
  }

  /** Waits until the updates received satisfy `pred`. */
  async waitForUpdates(what: string, pred: (u: ResourceUpdate[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.updates)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.updates.length} update(s)`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
