/**
 * `DnsDiscovery`: backends from every A and AAAA record of a host name, refreshed when the
 * records' TTL runs out. This is what rolling deploys behind DNS need (the set follows the
 * records) and what fixes Node's `localhost` trap (it resolves to `::1` first since Node 17, so a
 * proxy that takes one address refuses connections; here every address is a backend).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { Backend } from './backend.js';
import type { Discovered, ServiceDiscovery } from './discovery.js';

/** One address record. */
export interface DnsRecord {
  address: string;
  /** Seconds the record may be cached. */
  ttl: number;
}

/** Resolves a host name to records with TTLs. Inject one in tests or to use another resolver. */
export type DnsLookup = (hostname: string) => Promise<DnsRecord[]>;

/** Options of {@link DnsDiscovery}. Times are milliseconds. */
export interface DnsDiscoveryOptions {
  /** Default: {@link resolveAllRecords} over a `dns.promises.Resolver` (see `resolver`). */
  lookup?: DnsLookup;
  /** The resolver of the default lookup, e.g. one with `setServers([...])`. */
  resolver?: dns.Resolver;
  /** Weight of every backend. Default 1. */
  weight?: number;
  /** Shortest refresh interval, whatever the TTL says (a TTL of 0 would spin). Default 1 000. */
  minRefresh?: number;
  /** Longest refresh interval. Default 300 000 (5 min). */
  maxRefresh?: number;
  /** Retry interval after a failed resolution (the previous backends stay). Default 5 000. */
  errorRetry?: number;
}

function noRecords(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // c-ares answers ENODATA for a name without records of that family, ENOTFOUND for NXDOMAIN.
  return code === 'ENODATA' || code === 'ENOTFOUND';
}

/** TTL of records found only through getaddrinfo (hosts file), which carries none. */
const HOSTS_FILE_TTL = 30;

/**
 * The default lookup: `resolve4` and `resolve6` (with `{ ttl: true }`) in parallel, keeping what
 * either returns. A name DNS does not know (`localhost`, a hosts-file entry) falls back to
 * getaddrinfo with a 30 s TTL. Rejects when neither finds an address.
 */
export async function resolveAllRecords(
  hostname: string,
  resolver = new dns.Resolver(),
): Promise<DnsRecord[]> {
  const [v4, v6] = await Promise.allSettled([
    resolver.resolve4(hostname, { ttl: true }),
    resolver.resolve6(hostname, { ttl: true }),
  ]);
  const records: DnsRecord[] = [];
  if (v4.status === 'fulfilled') records.push(...v4.value);
  if (v6.status === 'fulfilled') records.push(...v6.value);
  if (records.length > 0) return records;
  const failures = [v4, v6].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.every((f) => noRecords(f.reason))) {
    const hosts = await dns.lookup(hostname, { all: true, verbatim: true }).catch(() => []);
    if (hosts.length > 0) return hosts.map((h) => ({ address: h.address, ttl: HOSTS_FILE_TTL }));
  }
  throw PingoraError.because(ErrorType.InternalError, `DNS: no address for ${hostname}`, failures[0]?.reason);
}

/**
 * Discovers `hostname:port` through DNS: one backend per A/AAAA record, re-resolved when the
 * shortest TTL expires (clamped to `minRefresh`..`maxRefresh`). A failed or empty resolution
 * rejects, so the load balancer keeps its previous backends and tries again after `errorRetry`.
 *
 * @example
 * ```ts
 * const lb = LoadBalancer.fromBackends(RoundRobin, new Backends(new DnsDiscovery('api.internal', 8080)));
 * lb.setHealthCheck(TcpHealthCheck.new());
 * lb.healthCheckFrequency = 1_000;
 * server.addService(backgroundService('lb', lb)); // resolves now, then on every TTL expiry
 * ```
 */
export class DnsDiscovery implements ServiceDiscovery {
  readonly hostname: string;
  readonly port: number;
  readonly #lookup: DnsLookup;
  readonly #weight: number;
  readonly #minRefresh: number;
  readonly #maxRefresh: number;
  readonly #errorRetry: number;
  #nextIn: number | undefined;
  #records: readonly DnsRecord[] = [];

  constructor(hostname: string, port: number, options: DnsDiscoveryOptions = {}) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw PingoraError.explain(ErrorType.InternalError, `invalid port ${port} for ${hostname}`);
    }
    this.hostname = hostname;
    this.port = port;
    const resolver = options.resolver;
    this.#lookup = options.lookup ?? ((h) => resolveAllRecords(h, resolver));
    this.#weight = options.weight ?? 1;
    this.#minRefresh = options.minRefresh ?? 1_000;
    this.#maxRefresh = options.maxRefresh ?? 300_000;
    this.#errorRetry = options.errorRetry ?? 5_000;
  }

  /** The records of the last successful resolution. */
  get records(): readonly DnsRecord[] {
    return this.#records;
  }

  async discover(): Promise<Discovered> {
    if (isIP(this.hostname) !== 0) {
      this.#nextIn = undefined; // a literal never changes
      return { backends: [this.#backend(this.hostname)] };
    }
    let records: DnsRecord[];
    try {
      records = await this.#lookup(this.hostname);
      if (records.length === 0) {
        throw PingoraError.explain(ErrorType.InternalError, `DNS: no address for ${this.hostname}`);
      }
    } catch (e) {
      this.#nextIn = this.#errorRetry;
      throw e;
    }
    this.#records = records;
    const ttl = Math.min(...records.map((r) => r.ttl)) * 1000;
    this.#nextIn = Math.min(
      this.#maxRefresh,
      Math.max(this.#minRefresh, Number.isFinite(ttl) ? ttl : this.#maxRefresh),
    );
    return { backends: records.map((r) => this.#backend(r.address)) };
  }

  /** Milliseconds after the last `discover()` when the records expire (or a failure is retried). */
  nextUpdateIn(): number | undefined {
    return this.#nextIn;
  }

  #backend(ip: string): Backend {
    return new Backend(ip.includes(':') ? `[${ip}]:${this.port}` : `${ip}:${this.port}`, this.#weight);
  }
}
