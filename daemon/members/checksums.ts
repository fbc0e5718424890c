import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { shellQuote } from './framing.js';
import { shellPath } from './transfer-paths.js';

/** SHA-256 of a local file, hex. */
export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

const SEPARATOR = '::fleet-sha::';
const BATCH = 200;

/**
 * Hashes files on a member with whatever it has (sha256sum, shasum, openssl), one section
 * per file so a missing file or tool cannot shift the answers. Undefined where it could not.
 */
export async function remoteSha256(run: (command: string) => Promise<string>, paths: string[]): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < paths.length; i += BATCH) {
    const batch = paths.slice(i, i + BATCH);
    const script = [
      'fleet_sha() {',
      '  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1";',
      '  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1";',
      '  else openssl dgst -sha256 -r "$1"; fi',
      '}',
      `for f in ${batch.map((p) => shellQuote(shellPath(p))).join(' ')}; do fleet_sha "$f" 2>/dev/null | head -n 1; echo '${SEPARATOR}'; done`,
    ].join('\n');
    const sections = (await run(script)).split(`${SEPARATOR}\n`);
    for (let j = 0; j < batch.length; j++) out.push(/^\\?([0-9a-f]{64})\b/m.exec(sections[j] ?? '')?.[1]);
  }
  return out;
}
