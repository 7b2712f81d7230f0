/**
 * `HttpHealthCheck`: sends a request to each backend and judges the response header (Pingora's
 * `HttpHealthCheck`). A TCP connect only proves the port is open; this proves the application
 * answers, on the serving port or on a separate health port (`portOverride`).
 */
import { ClientSession, Connector, HttpPeer, type UpstreamSession } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader } from '@pingora-ts/http';
import type { Backend } from './backend.js';
import { type HealthChangedCallback, type HealthCheck, peerFromTemplate, withPort } from './health-check.js';

/** Judges a response header: return to pass, throw to fail. */
export type ResponseValidator = (resp: ResponseHeader) => void;

/**
 * Passes when the backend answers `req` (default `GET /` with `Host: host`) with a response the
 * `validator` accepts, or with status 200 when there is none; otherwise fails with
 * `CustomCode("non 200 code", status)`. The body is read to the end. Timeouts: 1 s to connect and
 * 1 s per read. Each check opens a new connection unless `reuseConnection` is set (a kept-alive
 * connection can hide a firewall or L4 balancer problem, hence Pingora's default).
 *
 * @example
 * ```ts
 * const hc = HttpHealthCheck.new('api.internal', false);
 * hc.req = RequestHeader.build('GET', '/healthz');
 * hc.req.insertHeader('Host', 'api.internal');
 * hc.portOverride = 9000; // health endpoint on its own port
 * hc.validator = (resp) => {
 *   if (resp.status !== 204) throw new Error(`status ${resp.status}`);
 * };
 * hc.consecutiveSuccess = 2;
 * lb.setHealthCheck(hc);
 * ```
 */
export class HttpHealthCheck implements HealthCheck {
  /** Successful checks needed to flip unhealthy → healthy. Default 1. */
  consecutiveSuccess = 1;
  /** Failed checks needed to flip healthy → unhealthy. Default 1. */
  consecutiveFailure = 1;
  /** Scheme, SNI (= host when TLS) and options; the address is replaced by each backend's. */
  peerTemplate: HttpPeer;
  /** Keep the connection between checks. Default false. */
  reuseConnection = false;
  /** The request sent (a copy per check). */
  req: RequestHeader;
  /** Response judgement; default: status 200 passes. */
  validator: ResponseValidator | undefined = undefined;
  /** Check this port of the backend's IP instead of its serving port. */
  portOverride: number | undefined = undefined;
  /** Called when a backend's health flips. */
  healthChangedCallback: HealthChangedCallback | undefined = undefined;
  /** How backends are named in log lines. */
  backendSummaryCallback: ((backend: Backend) => string) | undefined = undefined;
  #connector: Connector = new Connector();

  /** @param host Host header value, and the SNI when `tls` is true. */
  constructor(host: string, tls: boolean) {
    this.req = RequestHeader.build('GET', '/');
    this.req.appendHeader('Host', host);
    this.peerTemplate = new HttpPeer('0.0.0.0:1', tls, tls ? host : '');
    this.peerTemplate.options.connectionTimeout = 1_000;
    this.peerTemplate.options.readTimeout = 1_000;
  }

  /** Pingora's `HttpHealthCheck::new(host, tls)`. */
  static new(host: string, tls: boolean): HttpHealthCheck {
    return new HttpHealthCheck(host, tls);
  }

  /** Replaces the connector (its pool holds reused connections). */
  setConnector(connector: Connector): void {
    this.#connector = connector;
  }

  /** Pingora's `set_backend_summary`. */
  setBackendSummary(summary: (backend: Backend) => string): void {
    this.backendSummaryCallback = summary;
  }

  healthThreshold(success: boolean): number {
    return success ? this.consecutiveSuccess : this.consecutiveFailure;
  }

  async check(backend: Backend): Promise<void> {
    const peer = peerFromTemplate(this.peerTemplate, withPort(backend.address, this.portOverride));
    const connector = this.#connector;
    const conn: UpstreamSession = this.reuseConnection
      ? (await connector.getHttpSession(peer))[0]
      : await connector.newHttpSession(peer);
    let done = false;
    try {
      const o = peer.options;
      const session = new ClientSession(conn, { readTimeout: o.readTimeout, writeTimeout: o.writeTimeout });
      session.writeRequestHeader(this.req.clone());
      const resp = await session.readResponseHeader();
      if (this.validator !== undefined) this.validator(resp);
      else if (resp.status !== 200) {
        throw PingoraError.explain(
          ErrorType.CustomCode('non 200 code', resp.status),
          'during http healthcheck',
        );
      }
      while ((await session.readResponseBody()) !== undefined) {
        // drain, so the connection can be reused
      }
      done = true;
    } finally {
      if (done && this.reuseConnection) connector.releaseHttpSession(conn, peer);
      else conn.destroy();
    }
  }

  async healthStatusChange(backend: Backend, healthy: boolean): Promise<void> {
    await this.healthChangedCallback?.(backend, healthy);
  }

  backendSummary(backend: Backend): string {
    return this.backendSummaryCallback?.(backend) ?? backend.toString();
  }
}
