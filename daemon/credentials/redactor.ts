/**
 * Replaces every known secret value in a text with `[REDACTED:NAME]`. One per daemon (on
 * FleetContext), filled by the credentials part; the event log, the MCP message store and
 * fleetd's own stderr/stdout run everything they write through it. A value stays known for
 * the life of the process after it is deleted or expires, so output that still carries it is
 * caught; after a restart an erased value is gone for good, redactor included.
 */
export class Redactor {
  /** value -> name, longest value first when applied. */
  private readonly values = new Map<string, string>();
  private ordered: [string, string][] = [];

  /** Starts redacting a value under a name (also in its JSON-escaped form). */
  add(name: string, value: string): void {
    this.values.set(value, name);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.set(escaped, name);
    this.ordered = [...this.values.entries()].sort((a, b) => b[0].length - a[0].length);
  }

  get size(): number {
    return this.values.size;
  }

  /** The text with every known value replaced. */
  redact(text: string): string {
    if (this.ordered.length === 0) return text;
    let out = text;
    for (const [value, name] of this.ordered) if (out.includes(value)) out = out.split(value).join(`[REDACTED:${name}]`);
    return out;
  }

  /** A JSON-able value with every string in it (keys included) redacted; unchanged input is returned as is. */
  redactDeep<T>(value: T): T {
    if (this.ordered.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.redact(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.redact(k)] = this.walk(x);
      return out;
    }
    return v;
  }
}
