import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * True when `header` is GitHub's `sha256=<hex>` HMAC of the raw body under `secret`.
 * Compared in constant time; a header of the wrong shape is simply false.
 */
export function signatureMatches(secret: string, body: Uint8Array, header: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected);
}

/** The header value GitHub would send for this body (tests, and `fleetctl ci setup` has no use for it). */
export function signatureOf(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
