import { readFileSync } from 'node:fs';
import { homePaths, readTextIfExists } from './home.js';

/** Contents of FLEET_HOME/server.json: how clients find a running daemon. */
export interface ServerInfo {
  pid: number;
  url: string;
  port: number;
  version: string;
  startedAt: string;
  home: string;
}

/** Reads server.json, or undefined when no daemon has announced itself. */
export function readServerInfo(home: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(homePaths(home).serverJson, 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}

/** The bearer token clients present: FLEET_TOKEN wins over FLEET_HOME/token. */
export function readToken(home: string, tokenFile?: string): string | undefined {
  if (!tokenFile && process.env.FLEET_TOKEN) return process.env.FLEET_TOKEN;
  return readTextIfExists(tokenFile ?? homePaths(home).token);
}

/** True when a process with this pid exists (signal 0 probes without sending). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
