import { randomBytes } from 'node:crypto';

interface Issued {
  name: string;
  expiresAt: number;
}

/**
 * Single-use codes for the one-time entry page: random, valid for a few minutes, kept in
 * memory only (a restart voids them), and gone once used, revoked or expired.
 */
export class EntryCodes {
  private readonly byCode = new Map<string, Issued>();

  constructor(private readonly ttlMs: number) {}

  /** A new code for a credential. */
  issue(name: string): { code: string; expiresAt: number } {
    this.sweep();
    const code = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + this.ttlMs;
    this.byCode.set(code, { name, expiresAt });
    return { code, expiresAt };
  }

  /** The credential a live code is for, without using it up. */
  peek(code: string | undefined): string | undefined {
    if (!code) return undefined;
    const issued = this.byCode.get(code);
    if (!issued) return undefined;
    if (issued.expiresAt <= Date.now()) {
      this.byCode.delete(code);
      return undefined;
    }
    return issued.name;
  }

  /** Uses a code up: the credential it was for, once; undefined after that. */
  consume(code: string | undefined): string | undefined {
    const name = this.peek(code);
    if (name !== undefined) this.byCode.delete(code!);
    return name;
  }

  /** Voids every code for a credential (it was deleted). */
  revoke(name: string): void {
    for (const [code, issued] of this.byCode) if (issued.name === name) this.byCode.delete(code);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [code, issued] of this.byCode) if (issued.expiresAt <= now) this.byCode.delete(code);
  }
}
