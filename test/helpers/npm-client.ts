import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Installs `pkg@version` from the npm registry into a cache folder outside the project
 * (FLEET_CLIENT_CACHE, default ~/.cache/fleet-test-clients) unless it is already there, and
 * returns the path of its `bin`. For real clients too large to be a devDependency (Claude
 * Code ships a ~400 MB native binary). Fails, naming the registry, when npm cannot fetch it:
 * the test must not pass without the client.
 */
export async function npmClient(pkg: string, version: string, bin: string): Promise<string> {
  const dir = join(process.env.FLEET_CLIENT_CACHE ?? join(homedir(), '.cache', 'fleet-test-clients'), `${pkg.replace(/[@/]/g, '_')}-${version}`);
  const path = join(dir, 'node_modules', '.bin', bin);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `${pkg}@${version}`], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, _out, stderr) => {
      if (err) reject(new Error(`could not install ${pkg}@${version} from the npm registry into ${dir} (is the registry reachable?): ${err.message}\n${stderr.slice(-2000)}`));
      else resolve();
    });
  });
  if (!existsSync(path)) throw new Error(`${pkg}@${version} installed into ${dir} but has no ${bin} binary at ${path}`);
  return path;
}
