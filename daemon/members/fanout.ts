import { FleetError } from '../errors.js';
import type { MemberRegistry } from './registry.js';
import type { Targets } from './schema.js';

/** One member's share of a call on several: its value, or the error that member alone hit. */
export type PerMember<T> = ({ member: string; ok: true } & T) | { member: string; ok: false; error: { code: string; message: string } };

/**
 * The member names a call targets: `member`, `members` or "all", each checked against the
 * registry; every unknown name is reported at once, with the names that do exist.
 */
export function resolveTargets(registry: MemberRegistry, t: Targets): string[] {
  if (t.member !== undefined && t.members !== undefined) throw new FleetError('bad_targets', 'give either member or members, not both');
  const all = t.member === 'all' || t.members === 'all';
  if (all) {
    const names = registry.names();
    if (names.length === 0) throw new FleetError('no_members', 'no members are registered yet; add one with register_member (or `fleetctl members add`)', 404);
    return names;
  }
  const wanted = t.member !== undefined ? [t.member] : Array.isArray(t.members) ? t.members : [];
  if (wanted.length === 0) throw new FleetError('bad_targets', 'say where to run: member (one name), members (a list) or members: "all"');
  const names: string[] = [];
  const unknown: string[] = [];
  for (const w of wanted) {
    const found = registry.find(w);
    if (!found) unknown.push(w);
    else if (!names.includes(found.name)) names.push(found.name);
  }
  if (unknown.length === 1) throw registry.unknown(unknown[0]!);
  if (unknown.length > 1) {
    const known = registry.names();
    throw new FleetError('unknown_member', `no members named ${unknown.map((u) => `"${u}"`).join(', ')}; known members: ${known.length ? known.join(', ') : 'none yet'}`, 404);
  }
  return names;
}

/** Runs `fn` on every member at once; one member's failure is its own result, never the call's. */
export async function fanOut<T extends object>(names: string[], fn: (name: string) => Promise<T>): Promise<PerMember<T>[]> {
  return Promise.all(
    names.map(async (member): Promise<PerMember<T>> => {
      try {
        return { member, ok: true, ...(await fn(member)) };
      } catch (e) {
        const error = e instanceof FleetError ? { code: e.code, message: e.message } : { code: 'internal', message: (e as Error).message };
        return { member, ok: false, error };
      }
    }),
  );
}
