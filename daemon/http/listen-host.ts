import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import { FleetError } from '../errors.js';

/** True for an address or name that only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/** True for an address that listens on every interface. */
export function isWildcardAddress(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1');
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

/**
 * Refuses a host beyond loopback unless remote listening was asked for (--allow-remote or
 * "allowRemote": true); when it was, returns the warning to print: fleetd speaks plain
 * HTTP, so the bearer token crosses the network in clear.
 */
export function vetListenHost(config: Pick<Config, 'host' | 'allowRemote'>): string | undefined {
  if (isLoopbackAddress(config.host)) return undefined;
  if (!config.allowRemote) {
    throw new FleetError(
      'remote_not_allowed',
      `refusing to listen on ${config.host}: that is reachable beyond this machine, and fleetd speaks plain HTTP, so the bearer token would travel in clear. ` +
        'Listen on 127.0.0.1 (the default), or pass --allow-remote (config.json: "allowRemote": true) if the network is yours to trust.',
    );
  }
  return (
    `fleetd: WARNING: listening on ${config.host}, beyond this machine (--allow-remote). fleetd speaks plain HTTP: ` +
    'the bearer token and everything else travel in clear. Use it only on a network you trust, or put TLS in front.'
  );
}

/**
 * Host names a request may carry besides the loopback ones: the address listened on, or,
 * on a wildcard address, every address of this machine and its host name.
 */
export function extraHostNames(host: string): string[] {
  if (isLoopbackAddress(host)) return [];
  if (!isWildcardAddress(host)) return [host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  const names = [hostname()];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) names.push(a.family === 'IPv6' ? `[${a.address.split('%')[0]}]` : a.address);
  }
  return names;
}

/** The address clients on this machine use: loopback when listening on every interface. */
export function clientHost(host: string): string {
  if (isWildcardAddress(host)) return host.includes(':') ? '[::1]' : '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
