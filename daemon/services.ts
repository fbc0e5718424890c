/**
 * The services parts offer each other, by name. Empty here: each part adds its own entry
 * where it is built, so this file imports no part, e.g. in members/part.ts
 *
 *   declare module '../services.js' { interface FleetServices { members: MembersService } }
 */
export interface FleetServices {}

export type ServiceName = keyof FleetServices & string;

/** What a part offers: some of the services, each under its own name. */
export type ProvidedServices = { [K in ServiceName]?: FleetServices[K] };

/**
 * Services of the parts built so far. Parts are built in dependency order (daemon/parts.ts),
 * so a part finds the services of every part before it and none after it.
 */
export class ServiceRegistry {
  private readonly byName = new Map<string, { service: unknown; part: string }>();

  /** Adds what a part offers; a name two parts offer is a wiring mistake. */
  provide(part: string, services: ProvidedServices): void {
    for (const [name, service] of Object.entries(services)) {
      if (service === undefined) continue;
      const owner = this.byName.get(name);
      if (owner) throw new Error(`parts "${owner.part}" and "${part}" both provide the service "${name}"`);
      this.byName.set(name, { service, part });
    }
  }

  /** The service, or an error saying the part that provides it must be built first. */
  get<K extends ServiceName>(name: K): FleetServices[K] {
    const entry = this.byName.get(name);
    if (!entry) throw new Error(`no service "${name}" yet: the part that provides it must come earlier in daemon/parts.ts (known: ${[...this.byName.keys()].join(', ') || 'none'})`);
    return entry.service as FleetServices[K];
  }

  /** True once some part provides the service. */
  has(name: ServiceName): boolean {
    return this.byName.has(name);
  }
}
