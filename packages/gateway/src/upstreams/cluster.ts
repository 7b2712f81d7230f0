/**
 * One `upstreams` entry, ready to serve: a `LoadBalancer` over the cluster's backends and the
 * peer each request connects to. `select` is on the hot path: no promise, no closure and, after
 * a backend's first use, no allocation (its `HttpPeer` is built once and shared).
 */
import { HttpPeer } from '@pingora-ts/core';
import type { RequestHeader } from '@pingora-ts/http';
import {
  type AcceptFn,
  type Backend,
  Backends,
  type BackendSelection,
  type BackendSelectionBuilder,
  Consistent,
  FNVHash,
  LeastConnections,
  LoadBalancer,
  Random,
  RoundRobin,
} from '@pingora-ts/load-balancing';
import type { Session } from '@pingora-ts/proxy';
import type { BuildContext, GatewayCtx, UpstreamCluster } from '../runtime/contracts.js';
import { compileRequestKey, type KeyReader } from '../runtime/request-key.js';
import type { Upstream } from '../schema/index.js';
import { ClusterDiscovery } from './discovery.js';
import { DEFAULT_CHECK_INTERVAL_MS, healthCheckFromConfig } from './health.js';
import { type PeerTemplate, peerTemplate } from './peer-template.js';

/** Candidates a selection may offer per request (Pingora's customary `max_iterations`). */
const MAX_ITERATIONS = 256;

const SELECTIONS: Record<Upstream['selection'], BackendSelectionBuilder<BackendSelection>> = {
  round_robin: RoundRobin,
  random: Random,
  fnv: FNVHash,
  ketama: Consistent,
  least_connections: LeastConnections,
};

const NO_TRIES: readonly string[] = [];

/** Marks a `ctx.release` that gives back one of our leases (so a retry can give it back early). */
const LEASE = Symbol('lease');

/** A `ctx.release` holding a least-connections lease. */
interface LeaseRelease {
  (): void;
  [LEASE]?: true;
}

/**
 * A cluster built from its `upstreams` entry.
 *
 * @example
 * ```ts
 * const cluster = new GatewayCluster('api', config.upstreams.api, ctx);
 * // in upstreamPeer:
 * const peer = cluster.select(session, ctx);
 * ```
 */
export class GatewayCluster implements UpstreamCluster {
  readonly name: string;
  readonly retries: number;
  /** The load balancer: backends, their health, the selection. */
  readonly loadBalancer: LoadBalancer<BackendSelection>;
  /** Discovery and health checks (the load balancer), or undefined when there is neither. */
  readonly background: LoadBalancer<BackendSelection> | undefined;
  /** Sets the Host header when the file has `host_header`. */
  readonly upstreamRequest: ((session: Session, req: RequestHeader) => void) | undefined;
  readonly discovery: ClusterDiscovery;
  readonly #template: PeerTemplate;
  readonly #key: KeyReader | undefined;
  readonly #leastConnections: boolean;
  readonly #peers = new WeakMap<Backend, HttpPeer>();
  /** Peers by host name, used until the names have been resolved once. */
  readonly #namePeers: HttpPeer[];
  #nameTurn = 0;
  // Scratch of #rankedSelect: select() is synchronous, so one set per cluster is enough.
  #tried: readonly string[] = NO_TRIES;
  #untried: Backend | undefined;
  #healthyTried: Backend | undefined;
  #any: Backend | undefined;

  /**
   * @param keyPath the entry's key path for error messages (default `upstreams.<name>`).
   * @throws Error naming the key when a TLS file cannot be read or is not valid PEM.
   */
  constructor(name: string, upstream: Upstream, ctx: BuildContext, keyPath = `upstreams.${name}`) {
    this.name = name;
    this.retries = upstream.retries;
    this.#template = peerTemplate(upstream, keyPath, ctx);
    const hashed = upstream.selection === 'fnv' || upstream.selection === 'ketama';
    this.#key = hashed ? compileRequestKey(upstream.hash_key) : undefined;
    this.#leastConnections = upstream.selection === 'least_connections';

    const discovery = ClusterDiscovery.fromConfig(upstream);
    this.discovery = discovery;
    const backends = new Backends(discovery, { logger: ctx.logger });
    // IP backends serve from the first request; names join once resolved.
    if (discovery.fixed.length > 0) backends.setDiscovered({ backends: discovery.fixed });
    const lb = new LoadBalancer(SELECTIONS[upstream.selection], backends);
    const hc = upstream.health_check;
    if (hc !== undefined) {
      lb.setHealthCheck(
        healthCheckFromConfig(hc, {
          template: this.#template,
          hostHeader: upstream.host_header,
          sniOf: (b) => discovery.hostOf(b),
        }),
      );
      lb.healthCheckFrequency = hc.interval ?? DEFAULT_CHECK_INTERVAL_MS;
      // One slow backend must not delay the verdicts on the others.
      lb.parallelHealthCheck = true;
    }
    this.loadBalancer = lb;
    this.background = hc !== undefined || discovery.names.length > 0 ? lb : undefined;
    this.#namePeers = discovery.names.map((n) =>
      this.#makePeer(new HttpPeer(`${n.host}:${n.port}`, false, ''), n.host),
    );
    const host = upstream.host_header;
    this.upstreamRequest =
      host === undefined
        ? undefined
        : (_session, req) => {
            req.insertHeader('Host', host);
          };
  }

  /**
   * The peer for this request: the selection's first healthy backend not in `ctx.tried`; else an
   * untried unhealthy one (health verdicts lag, and trying beats failing at once); else a tried
   * healthy one, then any (a one-backend cluster retries on its only backend). Its address is
   * pushed to `ctx.tried`. Before the cluster's names are first resolved, a peer by host name.
   * Undefined only when the cluster has no backend at all. The peer is shared by every request
   * to that backend: do not modify it.
   */
  select(session: Session, ctx: GatewayCtx): HttpPeer | undefined {
    const lb = this.loadBalancer;
    const key = this.#key === undefined ? '' : this.#key(session, ctx.route?.name ?? '');
    let b: Backend | undefined;
    if (ctx.tried.length === 0) b = lb.select(key, MAX_ITERATIONS);
    if (b === undefined) b = this.#rankedSelect(key, ctx.tried);
    if (b === undefined) return this.#selectByName(ctx);
    if (this.#leastConnections) this.#lease(ctx, b);
    ctx.tried.push(b.addr);
    return this.#peerOf(b);
  }

  #rankedSelect(key: string, tried: readonly string[]): Backend | undefined {
    this.#tried = tried;
    const best = this.loadBalancer.selectWith(key, MAX_ITERATIONS, this.#acceptRanked);
    const chosen = best ?? this.#untried ?? this.#healthyTried ?? this.#any;
    this.#tried = NO_TRIES;
    this.#untried = this.#healthyTried = this.#any = undefined;
    return chosen;
  }

  // Takes a healthy untried backend at once; remembers the first of each lesser kind.
  readonly #acceptRanked: AcceptFn = (b, healthy) => {
    const untried = !this.#tried.includes(b.addr);
    if (untried && healthy) return true;
    if (untried) this.#untried ??= b;
    else if (healthy) this.#healthyTried ??= b;
    else this.#any ??= b;
    return false;
  };

  #selectByName(ctx: GatewayCtx): HttpPeer | undefined {
    const peers = this.#namePeers;
    const n = peers.length;
    if (n === 0) return undefined;
    let chosen = peers[this.#nameTurn++ % n]!;
    for (let i = 0; i < n && ctx.tried.includes(String(chosen.address)); i++) {
      chosen = peers[this.#nameTurn++ % n]!;
    }
    ctx.tried.push(String(chosen.address));
    return chosen;
  }

  #lease(ctx: GatewayCtx, b: Backend): void {
    const prev: LeaseRelease | undefined = ctx.release;
    const ours = prev !== undefined && prev[LEASE] === true;
    // A retry: the backend that failed is no longer in use by this request.
    if (ours) prev();
    const lease = this.loadBalancer.inflight.lease(b);
    const release: LeaseRelease = () => lease.release();
    release[LEASE] = true;
    // Someone else's release (not expected today) still runs at the end of the request.
    ctx.release =
      prev === undefined || ours
        ? release
        : () => {
            prev();
            release();
          };
  }

  #peerOf(b: Backend): HttpPeer {
    let peer = this.#peers.get(b);
    if (peer === undefined) {
      peer = this.#makePeer(new HttpPeer(b.address, false, ''), this.discovery.hostOf(b));
      this.#peers.set(b, peer);
    }
    return peer;
  }

  /** A peer at `plain`'s address with the cluster's scheme, SNI (default `host`) and options. */
  #makePeer(plain: HttpPeer, host: string): HttpPeer {
    const t = this.#template;
    if (!t.tls) {
      plain.options = t.options;
      return plain;
    }
    const peer = new HttpPeer(plain.address, true, t.sni ?? host);
    peer.options = t.options;
    peer.clientCertKey = t.clientCertKey;
    return peer;
  }
}
