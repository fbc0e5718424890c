import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetdProcess } from '../helpers/fleetd.js';
import { RawBridge, initializeLine } from './bridge-client.js';

describe('fleet-bridge under malformed stdin', () => {
  let fleetd: FleetdProcess;
  beforeAll(async () => {
    fleetd = await new FleetdProcess().start();
  });
  afterAll(() => fleetd.dispose());

  it('answers each bad line with a JSON-RPC error on stdout and keeps relaying', async () => {
    const raw = new RawBridge(fleetd.home);
    try {
      raw.write('this is not json\n');
      raw.write('{"unterminated": \n');
      raw.write('42\n');
      raw.write('{"foo":1}\n');
      raw.write('{"jsonrpc":"2.0","id":7}\n');
      raw.write('{"jsonrpc":"1.0","id":8,"method":"ping"}\n');
      raw.write('{"jsonrpc":"2.0","id":9,"method":"tools/list","params":"oops"}\n');
      raw.write('[]\n');
      const errors = await raw.waitForLines(8);
      expect(errors.map((m) => m.error.code)).toEqual([-32700, -32700, -32600, -32600, -32600, -32600, -32600, -32600]);
      expect(errors.map((m) => m.id)).toEqual([null, null, null, null, 7, 8, 9, null]);
      for (const m of errors) {
        expect(m.jsonrpc).toBe('2.0');
        expect(m.error.message.length).toBeGreaterThan(10);
      }
      // Still alive, and still a relay: a proper session works after all that.
      raw.write(initializeLine(1));
      expect((await raw.answer(1)).result.serverInfo.name).toBe('fleetd');
      raw.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      raw.write('not json again\n{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n');
      expect((await raw.answer(2)).result.tools.length).toBeGreaterThan(0);
      expect(raw.messages.filter((m) => m.error?.code === -32700)).toHaveLength(3);
      // A request split across writes and a CRLF line ending are fine too.
      raw.write('{"jsonrpc":"2.0","id":3,');
      raw.write('"method":"ping"}\r\n');
      expect((await raw.answer(3)).result).toEqual({});
      // stdout carried JSON-RPC only: every line parsed (raw.messages throws otherwise).
      expect(raw.messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
    } finally {
      raw.proc.stdin.end();
      await raw.exited;
    }
  });

  it('requests before initialize get a clear error; ping is answered', async () => {
    const raw = new RawBridge(fleetd.home);
    try {
      raw.write('{"jsonrpc":"2.0","id":"a","method":"tools/list"}\n{"jsonrpc":"2.0","id":"b","method":"ping"}\n');
      expect((await raw.answer('a')).error).toMatchObject({ code: -32032, message: expect.stringMatching(/initialize first/) });
      expect((await raw.answer('b')).result).toEqual({});
    } finally {
      raw.proc.stdin.end();
      await raw.exited;
    }
  });

  it('a client that pipelines initialize, initialized and a call without waiting is served in order', async () => {
    const raw = new RawBridge(fleetd.home);
    try {
      raw.write(`${initializeLine(1)}{"jsonrpc":"2.0","method":"notifications/initialized"}\n{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fleet_status","arguments":{}}}\n`);
      expect((await raw.answer(1)).result.protocolVersion).toBe('2025-11-25');
      expect((await raw.answer(2)).result.isError).toBeFalsy();
      raw.write(initializeLine(3));
      expect((await raw.answer(3)).error.message).toMatch(/already initialized/);
    } finally {
      raw.proc.stdin.end();
      await raw.exited;
    }
  });
});
