/**
 * Service discovery: where the set of backends comes from. `Static` holds a list the program
 * edits; `DnsDiscovery` (dns-discovery.ts) follows DNS; anything else (a registry, a file, a
 * message from another process) plugs in through the one-method {@link ServiceDiscovery}.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { Backend, sortedBackends } from './backend.js';

/** What a discovery returns (Pingora's `(BTreeSet<Backend>, HashMap<u64, bool>)`). */
export interface Discovered {
  /** Every backend; duplicates (same address and weight) are dropped, order does not matter. */
  backends: Iterable<Backend>;
  /** Enablement overrides by `Backend.hashKey()`: `false` takes a healthy backend out of rotation. */
  enablement?: ReadonlyMap<string, boolean>;
}

/**
 * Pingora's `ServiceDiscovery`: implement `discover()` to feed a load balancer.
 *
 * @example
 * ```ts
 * const fromFile: ServiceDiscovery = {
 *   async discover() {
 *     const addrs: string[] = JSON.parse(await readFile('upstreams.json', 'utf8'));
 *     return { backends: addrs.map((a) => new Backend(a)) };
 *   },
 * };
 * const lb = LoadBalancer.fromBackends(RoundRobin, new Backends(fromFile));
 * lb.updateFrequency = 5_000;
 * ```
 */
export interface ServiceDiscovery {
  /** The current backends. A rejection keeps the previous set. */
  discover(): Promise<Discovered> | Discovered;
  /**
   * Optional: how long (ms) after the last `discover()` its answer may change, e.g. a DNS TTL.
   * A `LoadBalancer` running as a background service refreshes at the earlier of this and its
   * `updateFrequency`.
   */
  nextUpdateIn?(): number | undefined;
}

/** Resolves a host name to every address it has (getaddrinfo: hosts file, then DNS). */
export type HostLookup = (hostname: string) => Promise<string[]>;

const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

function splitHostPort(addr: string): [string, number] | undefined {
  const colon = addr.lastIndexOf(':');
  if (colon <= 0 || addr.startsWith('[')) return undefined;
  const host = addr.slice(0, colon);
  const port = Number(addr.slice(colon + 1));
  if (host.includes(':') || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return [host, port];
}

/**
 * A fixed set of backends the program can change at run time (Pingora's `discovery::Static`).
 *
 * @example
 * ```ts
 * const upstreams = Static.tryFromIter(['10.0.0.1:80', '10.0.0.2:80']);
 * upstreams.add(new Backend('10.0.0.3:80'));
 * await lb.update(); // the selection now includes 10.0.0.3
 * ```
 */
export class Static implements ServiceDiscovery {
  #backends: Backend[];

  constructor(backends: Iterable<Backend> = []) {
    this.#backends = sortedBackends(backends);
  }

  /** Pingora's `Static::new(set)`. */
  static new(backends: Iterable<Backend>): Static {
    return new Static(backends);
  }

  /**
   * Backends of weight 1 from `"ip:port"` strings. Host names need resolving, which is
   * asynchronous in Node: use {@link Static.resolve} for them.
   */
  static tryFromIter(addrs: Iterable<string>): Static {
    return new Static(Array.from(addrs, (a) => new Backend(a)));
  }

  /**
   * Backends of weight 1 from `"host:port"` strings, one per address the host resolves to (so
   * `localhost:3000` gives both `127.0.0.1:3000` and `[::1]:3000`). IP literals pass through.
   */
  static async resolve(addrs: Iterable<string>, lookup: HostLookup = systemLookup): Promise<Static> {
    const out: Backend[] = [];
    for (const a of addrs) {
      const hp = splitHostPort(a);
      if (hp === undefined || isIP(hp[0]) !== 0) {
        out.push(new Backend(a));
        continue;
      }
      const [host, port] = hp;
      let ips: string[];
      try {
        ips = await lookup(host);
      } catch (e) {
        throw PingoraError.because(ErrorType.InternalError, `cannot resolve ${host}`, e);
      }
      for (const ip of ips) out.push(new Backend(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`));
    }
    return new Static(out);
  }

  /** The current backends, sorted. */
  get(): readonly Backend[] {
    return this.#backends;
  }

  /** Replaces the whole set. */
  set(backends: Iterable<Backend>): void {
    this.#backends = sortedBackends(backends);
  }

  /** Adds one backend (no-op when an equal one is present). */
  add(backend: Backend): void {
    this.#backends = sortedBackends([...this.#backends, backend]);
  }

  /** Removes the backend equal to `backend` (same address and weight). */
  remove(backend: Backend): void {
    this.#backends = this.#backends.filter((b) => !b.equals(backend));
  }

  discover(): Discovered {
    return { backends: this.#backends };
  }
}
