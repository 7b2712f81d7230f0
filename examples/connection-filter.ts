/**
 * Refusing clients by address before anything else happens (Pingora's `ConnectionFilter`): an
 * allow-list and a block-list of CIDR ranges checked when a connection is accepted, before the TLS
 * handshake and before a byte of HTTP is read. A refused client sees its connection closed with
 * no response, so it learns nothing about the service behind, and a handshake flood from a
 * blocked range costs no TLS work. The proxy listens on plain HTTP and on TLS (the repository's
 * TEST-ONLY certificate for localhost); one filter covers both listeners of the service.
 *
 *   pnpm --filter @pingora-ts/examples connection-filter
 *   curl 127.0.0.1:6197                          # served (127.0.0.1 is allowed)
 *   curl --interface 127.0.0.3 127.0.0.1:6197    # refused: closed with no response
 */
import net from 'node:net';
import { type ConnectionFilter, HttpPeer, type RemoteAddress, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';
import { tlsSettings } from './load-balancer.js';

/** CIDR ranges or single addresses, e.g. `['10.0.0.0/8', '127.0.0.1', '::1']`. */
export class AddressList {
  readonly #list = new net.BlockList();

  constructor(entries: Iterable<string>) {
    for (const entry of entries) {
      const [addr = '', bits] = entry.split('/');
      const family = net.isIP(addr);
      if (family === 0) throw new TypeError(`AddressList: not an address: ${JSON.stringify(entry)}`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      const prefix = Number(bits);
      if (bits === undefined) this.#list.addAddress(addr, type);
      else if (Number.isInteger(prefix) && prefix >= 0 && prefix <= (family === 6 ? 128 : 32))
        this.#list.addSubnet(addr, prefix, type);
      else throw new TypeError(`AddressList: bad prefix length: ${JSON.stringify(entry)}`);
    }
  }

  /** Whether `address` falls in one of the ranges (an IPv4-mapped IPv6 address counts as IPv4). */
  has(address: string): boolean {
    const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    return this.#list.check(v4, net.isIPv6(v4) ? 'ipv6' : 'ipv4');
  }
}

/** Which clients may connect: in `allow` (when given) and not in `block`. */
export interface AddressRules {
  /** Only these ranges may connect. Unset: everyone not blocked. */
  allow?: string[];
  /** These ranges may never connect; wins over `allow`. */
  block?: string[];
}

/**
 * The connection filter for `rules`. Unix-socket clients have no address and pass: whoever can
 * open the socket file is already trusted by its permissions.
 *
 * @example
 * ```ts
 * service.setConnectionFilter(addressFilter({ allow: ['10.0.0.0/8'], block: ['10.6.6.0/24'] }));
 * ```
 */
export function addressFilter(rules: AddressRules): ConnectionFilter {
  const allow = rules.allow === undefined ? undefined : new AddressList(rules.allow);
  const block = new AddressList(rules.block ?? []);
  return (remote: RemoteAddress) => {
    if (remote.family === 'unix') return true;
    if (block.has(remote.address)) return false;
    return allow === undefined || allow.has(remote.address);
  };
}

/** A proxy to one origin. */
export function toOrigin(origin: string): ProxyHttp {
  return { upstreamPeer: () => new HttpPeer(origin, false, '') };
}

/**
 * Starts the filtered proxy in front of `origin` on `port` (plain) and `tlsPort` (TLS); 0 picks
 * free ports. `ports` holds the plain port; `tlsPort` the TLS one.
 */
export async function main(
  port: number,
  tlsPort: number,
  origin: string,
  rules: AddressRules,
): Promise<Running & { tlsPort: number }> {
  const proxy = httpProxyService(new Server(null).configuration, toOrigin(origin));
  proxy.addTcp(`127.0.0.1:${port}`);
  proxy.addTlsWithSettings(`127.0.0.1:${tlsPort}`, undefined, tlsSettings());
  proxy.setConnectionFilter(addressFilter(rules));
  const running = await startServices([proxy]);
  const tls = proxy.addresses()[1];
  return { ...running, tlsPort: tls?.kind === 'tcp' ? tls.port : 0 };
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('origin');
  // Loopback is allowed, except 127.0.0.3 (try `curl --interface 127.0.0.3`).
  const rules = { allow: ['127.0.0.0/8', '::1'], block: ['127.0.0.3'] };
  const r = await main(6197, 6198, o.addr, rules);
  console.log(
    `proxy on http://127.0.0.1:${r.ports[0]} and https://localhost:${r.tlsPort}; allowed ${rules.allow.join(', ')}, blocked ${rules.block.join(', ')}`,
  );
}
