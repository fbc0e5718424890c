import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openFleetDb } from '../../daemon/db/open.js';
import { McpMessageStore } from '../../daemon/mcp/message-store.js';
import { tempHome } from '../helpers/fleetd.js';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });

/** Makes the store's inserts fail as SQLite does on a full disk while `full()` is true. */
function simulateFullDisk(store: McpMessageStore, full: () => boolean): void {
  const inner = store as unknown as { insert: { run: (...a: unknown[]) => unknown } };
  const real = inner.insert;
  inner.insert = {
    run: (...a: unknown[]) => {
      if (full()) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return real.run(...a);
    },
  };
}

describe('MCP message store on a full disk', () => {
  let home = '';
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('keeps refused messages in memory, in order with stored ones, for replay; forgets them with the session', async () => {
    home = tempHome();
    // fleet.db's owner makes the tables; the store only opens its own connection.
    openFleetDb(join(home, 'fleet.db')).close();
    const store = new McpMessageStore(join(home, 'fleet.db'));
    let full = false;
    simulateFullDisk(store, () => full);
    const sent: number[] = [];
    const ids: number[] = [];
    const before = await store.store('s1', 'GET', note(0));
    ids.push(await store.store('s1', 'GET', note(1)));
    full = true;
    ids.push(await store.store('s1', 'GET', note(2)));
    ids.push(await store.store('s1', 'GET', note(3)));
    full = false;
    ids.push(await store.store('s1', 'GET', note(4)));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids); // one order across stored and refused rows

    expect(store.canResume('s1', ids[1]!)).toBe(true); // a refused row is still a resume point
    expect(store.canResume('s2', ids[1]!)).toBe(false);
    const stream = await store.replay('s1', before, async (_id, m) => void sent.push((m as { params: { data: number } }).params.data));
    expect(stream).toBe('GET');
    expect(sent).toEqual([1, 2, 3, 4]);

    store.deleteSession('s1');
    expect(store.canResume('s1', ids[1]!)).toBe(false);
    store.close();
  });
});
