import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * The request body as text. When nothing has touched the body yet (a declared length, which
 * the body limit checked without reading), it is read straight from Node's IncomingMessage:
 * that skips the web Request, ReadableStream and AbortSignal @hono/node-server would build
 * for this one request, most of the cost of a small POST. Otherwise, the standard way.
 */
export function bodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableFlowing !== null || incoming.readableEnded || incoming.headers['transfer-encoding'] !== undefined) {
    return c.req.text();
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onClose = () => reject(new Error('client closed the connection before sending its whole body'));
    incoming.on('data', (d: Buffer) => chunks.push(d));
    incoming.once('error', reject);
    incoming.once('close', onClose);
    incoming.once('end', () => {
      incoming.off('close', onClose);
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
  });
}
