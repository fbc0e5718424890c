import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCore } from '../../daemon/core.js';
import { MembersService } from '../../daemon/members/service.js';
import { ServiceRegistry } from '../../daemon/services.js';

describe('parts offer services to the parts built after them', () => {
  const home = mkdtempSync(join(tmpdir(), 'fleet-services-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('hands a later part the service an earlier part provides, and tells a part asking too early what to reorder', () => {
    const services = new ServiceRegistry();
    expect(() => services.get('members')).toThrow(/no service "members" yet: the part that provides it must come earlier in daemon\/parts\.ts/);
    const fake = {} as MembersService;
    services.provide('members', { members: fake });
    expect(services.get('members')).toBe(fake);
    expect(() => services.provide('other', { members: fake })).toThrow(/parts "members" and "other" both provide the service "members"/);
  });

  it('builds the real parts in order, the members part providing its service, with settings frozen before any part exists', async () => {
    const core = await openCore(home, { flags: { port: 0 } });
    try {
      const members = core.parts.find((p) => p.name === 'members');
      expect(members?.provides?.members).toBeInstanceOf(MembersService);
      expect(Object.isFrozen(core.ctx.config)).toBe(true);
      expect(Object.isFrozen(core.ctx.config.members)).toBe(true);
      expect(core.ctx.config.port).toBe(0);
    } finally {
      await core.close();
    }
  });
});
