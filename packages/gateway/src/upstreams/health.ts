/**
 * A cluster's `health_check` as a load-balancing `HealthCheck`. TCP checks connect (no TLS
 * handshake, even on a TLS cluster: they prove the port is open). HTTP checks send
 * `GET <path>` with the cluster's TLS settings and the SNI its requests use, so a check passes
 * exactly when a request could connect, and judge the status.
 */
import { Connector, HttpPeer } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader } from '@pingora-ts/http';
import { type Backend, type HealthCheck, HttpHealthCheck, TcpHealthCheck } from '@pingora-ts/load-balancing';
import type { HealthCheckConfig } from '../schema/index.js';
import type { PeerTemplate } from './peer-template.js';

/** Time between checks when the file does not say. */
export const DEFAULT_CHECK_INTERVAL_MS = 1_000;
/** A check taking longer fails, when the file does not say. */
export const DEFAULT_CHECK_TIMEOUT_MS = 1_000;

/** What an HTTP check needs to know about the cluster besides `health_check`. */
export interface HealthCheckTarget {
  readonly template: PeerTemplate;
  /** The cluster's `host_header`, the Host of checks without `health_check.host`. */
  readonly hostHeader: string | undefined;
  /** The SNI a request to `backend` uses. */
  sniOf(backend: Backend): string;
}

/**
 * Builds the health check `conf` describes. `healthy_after` and `unhealthy_after` become the
 * consecutive success and failure thresholds.
 *
 * @example
 * ```ts
 * lb.setHealthCheck(healthCheckFromConfig({ type: 'tcp' }, target));
 * ```
 */
export function healthCheckFromConfig(conf: HealthCheckConfig, target: HealthCheckTarget): HealthCheck {
  const timeout = conf.timeout ?? DEFAULT_CHECK_TIMEOUT_MS;
  if (conf.type === 'tcp') {
    const check = TcpHealthCheck.new();
    check.peerTemplate.options.connectionTimeout = timeout;
    check.consecutiveSuccess = conf.healthy_after ?? 1;
    check.consecutiveFailure = conf.unhealthy_after ?? 1;
    return check;
  }
  return new ClusterHttpCheck(conf, target, timeout);
}

/**
 * HTTP checks with a Host and an SNI per backend (one `HttpHealthCheck` each, made on first use;
 * they share one connector). Without `expected_status`, any 2xx passes.
 */
class ClusterHttpCheck implements HealthCheck {
  readonly #checks = new WeakMap<Backend, HttpHealthCheck>();
  readonly #connector = new Connector();

  constructor(
    readonly conf: HealthCheckConfig,
    readonly target: HealthCheckTarget,
    readonly timeout: number,
  ) {}

  healthThreshold(success: boolean): number {
    return (success ? this.conf.healthy_after : this.conf.unhealthy_after) ?? 1;
  }

  check(backend: Backend): Promise<void> {
    let check = this.#checks.get(backend);
    if (check === undefined) {
      check = this.#make(backend);
      this.#checks.set(backend, check);
    }
    return check.check(backend);
  }

  #make(backend: Backend): HttpHealthCheck {
    const { conf, target } = this;
    const t = target.template;
    const host = conf.host ?? target.hostHeader ?? backend.addr;
    const check = HttpHealthCheck.new(host, t.tls);
    check.req = RequestHeader.build('GET', conf.path ?? '/');
    check.req.insertHeader('Host', host);
    const peer = new HttpPeer('0.0.0.0:1', t.tls, t.tls ? (t.sni ?? target.sniOf(backend)) : '');
    const o = t.options.clone();
    o.connectionTimeout = this.timeout;
    o.readTimeout = this.timeout;
    o.writeTimeout = this.timeout;
    o.alpn = 'h1';
    peer.options = o;
    peer.clientCertKey = t.clientCertKey;
    check.peerTemplate = peer;
    check.setConnector(this.#connector);
    const expected = conf.expected_status;
    check.validator = (resp: ResponseHeader) => {
      const ok = expected === undefined ? resp.status >= 200 && resp.status < 300 : resp.status === expected;
      if (!ok) {
        throw PingoraError.explain(
          ErrorType.CustomCode('unexpected status', resp.status),
          `during http healthcheck: status ${resp.status}, expected ${expected ?? '2xx'}`,
        );
      }
    };
    return check;
  }
}
