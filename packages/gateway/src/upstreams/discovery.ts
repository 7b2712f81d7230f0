/**
 * Where a cluster's backends come from: `backends` given as IP addresses are fixed; those given
 * as host names and the `dns` entry are resolved (every A/AAAA record, so `localhost:3000` is
 * both `127.0.0.1:3000` and `[::1]:3000`) and resolved again every `refresh`. A load balancer
 * cannot take a host name (it needs addresses to hash and to health-check), and Node cannot
 * resolve synchronously, so names are resolved by the cluster's background service.
 */
import { isIP } from 'node:net';
import { parsePeerAddress } from '@pingora-ts/core';
import { Backend, type Discovered, DnsDiscovery, type ServiceDiscovery } from '@pingora-ts/load-balancing';
import type { Upstream } from '../schema/index.js';

/** How often names are resolved again when the file does not say (`dns.refresh`). */
export const DEFAULT_DNS_REFRESH_MS = 30_000;
/** Shortest refresh: a `refresh` of 0 would resolve in a loop. */
const MIN_REFRESH_MS = 1_000;
/** Retry interval after a failed resolution (the previous addresses stay in use). */
const ERROR_RETRY_MS = 5_000;

/** A host name to resolve, with the port and weight its backends get. */
export interface NamedBackend {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

interface NameEntry extends NamedBackend {
  readonly dns: DnsDiscovery;
  /** Backends of the last successful resolution. */
  last: readonly Backend[];
}

/**
 * The discovery of one cluster: fixed IP backends plus resolved names.
 *
 * @example
 * ```ts
 * const d = ClusterDiscovery.fromConfig(upstream);
 * const backends = new Backends(d);
 * backends.setDiscovered({ backends: d.fixed }); // IP backends can be selected at once
 * ```
 */
export class ClusterDiscovery implements ServiceDiscovery {
  /** Backends given as IP addresses: known without resolving. */
  readonly fixed: readonly Backend[];
  /** Backends given by name, resolved by {@link discover}. */
  readonly names: readonly NamedBackend[];
  readonly #entries: NameEntry[];
  readonly #hostOf = new Map<string, string>();

  constructor(fixed: readonly Backend[], names: readonly NamedBackend[], refreshMs = DEFAULT_DNS_REFRESH_MS) {
    this.fixed = fixed;
    this.names = names;
    // Resolved on a fixed schedule: the file's `refresh`, whatever the records' TTL says.
    const every = Math.max(MIN_REFRESH_MS, refreshMs);
    this.#entries = names.map((n) => ({
      ...n,
      dns: new DnsDiscovery(n.host, n.port, {
        weight: n.weight,
        minRefresh: every,
        maxRefresh: every,
        errorRetry: Math.min(ERROR_RETRY_MS, every),
      }),
      last: [],
    }));
  }

  /** The discovery an `upstreams` entry describes. */
  static fromConfig(upstream: Upstream): ClusterDiscovery {
    if (upstream.dns !== undefined) {
      const d = upstream.dns;
      return new ClusterDiscovery([], [{ host: d.name, port: d.port, weight: 1 }], d.refresh);
    }
    const fixed: Backend[] = [];
    const names: NamedBackend[] = [];
    for (const entry of upstream.backends ?? []) {
      const [addr, weight] = typeof entry === 'string' ? [entry, 1] : [entry.address, entry.weight];
      const a = parsePeerAddress(addr);
      if (a.kind === 'inet' && isIP(a.host) === 0) names.push({ host: a.host, port: a.port, weight });
      else fixed.push(new Backend(addr, weight));
    }
    return new ClusterDiscovery(fixed, names);
  }

  /**
   * The host name `backend` was resolved from; for an IP backend, its IP. When this process did
   * not resolve it (a worker receives addresses only) and the cluster has one name and no IP
   * backend, that name.
   */
  hostOf(backend: Backend): string {
    const known = this.#hostOf.get(backend.addr);
    if (known !== undefined) return known;
    if (this.names.length === 1 && this.fixed.length === 0) return this.names[0]!.host;
    return backend.address.kind === 'inet' ? backend.address.host : '';
  }

  /**
   * The fixed backends and every name's current addresses. A name that fails to resolve keeps
   * its previous addresses; rejects only when no backend at all is known.
   */
  async discover(): Promise<Discovered> {
    const entries = this.#entries;
    if (entries.length === 0) return { backends: this.fixed };
    const results = await Promise.allSettled(entries.map((e) => e.dns.discover()));
    let failure: unknown;
    results.forEach((r, i) => {
      const e = entries[i]!;
      if (r.status === 'rejected') {
        failure ??= r.reason;
        return;
      }
      e.last = Array.from(r.value.backends);
    });
    // Rebuilt each time, so addresses a name no longer has are forgotten.
    this.#hostOf.clear();
    const backends = [...this.fixed];
    for (const e of entries) {
      for (const b of e.last) this.#hostOf.set(b.addr, e.host);
      backends.push(...e.last);
    }
    if (backends.length === 0) throw failure;
    return { backends };
  }

  /** Milliseconds until the soonest name is due again; undefined when there is none. */
  nextUpdateIn(): number | undefined {
    let soonest: number | undefined;
    for (const e of this.#entries) {
      const n = e.dns.nextUpdateIn();
      if (n !== undefined && (soonest === undefined || n < soonest)) soonest = n;
    }
    return soonest;
  }
}
