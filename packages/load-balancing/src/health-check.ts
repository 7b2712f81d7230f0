/**
 * Active health checks: the {@link HealthCheck} interface `Backends` runs, and the TCP check
 * (connect, and handshake TLS when an SNI is set). The HTTP check is in http-health-check.ts.
 */
import type { Socket } from 'node:net';
import { connectPeer, HttpPeer, type PeerAddress, peerAddress } from '@pingora-ts/core';
import type { Backend } from './backend.js';

/** Called when a backend's health flips; may be async (it is awaited, errors are logged). */
export type HealthChangedCallback = (backend: Backend, healthy: boolean) => void | Promise<void>;

/**
 * What `Backends.runHealthCheck` runs against each backend (Pingora's `HealthCheck` trait).
 *
 * @example
 * ```ts
 * const redisPing: HealthCheck = {
 *   async check(backend) {
 *     const reply = await ping(backend.addr); // throw or reject to fail the check
 *     if (reply !== 'PONG') throw new Error(`unexpected ${reply}`);
 *   },
 *   healthThreshold: (success) => (success ? 2 : 3),
 * };
 * lb.setHealthCheck(redisPing);
 * ```
 */
export interface HealthCheck {
  /** Resolves when `backend` passes; rejects (or throws) with the reason when it fails. */
  check(backend: Backend): Promise<void>;
  /** Consecutive results needed to flip: `success` true = unhealthy → healthy. */
  healthThreshold(success: boolean): number;
  /** Called after a flip. */
  healthStatusChange?(backend: Backend, healthy: boolean): void | Promise<void>;
  /** How a backend is named in the flip log lines. Default `Backend.toString()`. */
  backendSummary?(backend: Backend): string;
}

/**
 * A peer for `address` with the template's scheme, SNI and options (Pingora replaces the
 * template's placeholder address the same way). The options object is shared, not copied.
 */
export function peerFromTemplate(template: HttpPeer, address: PeerAddress): HttpPeer {
  const peer = new HttpPeer(address, template.tls, template.sni);
  peer.options = template.options;
  peer.groupKey = template.groupKey;
  peer.clientCertKey = template.clientCertKey;
  return peer;
}

/** The address with another port (a Unix address is returned unchanged). */
export function withPort(address: PeerAddress, port: number | undefined): PeerAddress {
  // Through the factory: a spread would drop the class and with it `toString()`.
  return port === undefined || address.kind !== 'inet' ? address : peerAddress({ ...address, port });
}

/**
 * Passes when a TCP connection (and a TLS handshake, for {@link TcpHealthCheck.newTls}) to the
 * backend succeeds within the template's `connectionTimeout` (1 s). The connection is closed at once.
 *
 * @example
 * ```ts
 * const hc = TcpHealthCheck.new();
 * hc.consecutiveFailure = 3; // three failed connects in a row mark a backend down
 * lb.setHealthCheck(hc);
 * lb.healthCheckFrequency = 1_000;
 * ```
 */
export class TcpHealthCheck implements HealthCheck {
  /** Successful checks needed to flip unhealthy → healthy. Default 1. */
  consecutiveSuccess = 1;
  /** Failed checks needed to flip healthy → unhealthy. Default 1. */
  consecutiveFailure = 1;
  /**
   * Connection settings (timeouts, bind address, TLS verification). Its address is a placeholder
   * replaced by each backend's; TLS is used when the template is HTTPS (`newTls`).
   */
  peerTemplate: HttpPeer;
  /** Called when a backend's health flips. */
  healthChangedCallback: HealthChangedCallback | undefined = undefined;
  /** How backends are named in log lines (not in Pingora's TCP check; the HTTP check has it). */
  backendSummaryCallback: ((backend: Backend) => string) | undefined = undefined;
  #connect: (peer: HttpPeer) => Promise<Socket> = connectPeer;

  constructor(sni = '') {
    this.peerTemplate = new HttpPeer('0.0.0.0:1', sni !== '', sni);
    this.peerTemplate.options.connectionTimeout = 1_000;
  }

  /** Pingora's `TcpHealthCheck::new()`: plain TCP, 1 s connect timeout, thresholds 1/1. */
  static new(): TcpHealthCheck {
    return new TcpHealthCheck();
  }

  /** A check that also completes a TLS handshake for `sni` (certificate verified by default). */
  static newTls(sni: string): TcpHealthCheck {
    return new TcpHealthCheck(sni);
  }

  /** Replaces how connections are made (Pingora's `set_connector`), e.g. to go through a proxy. */
  setConnector(connect: (peer: HttpPeer) => Promise<Socket>): void {
    this.#connect = connect;
  }

  healthThreshold(success: boolean): number {
    return success ? this.consecutiveSuccess : this.consecutiveFailure;
  }

  async check(backend: Backend): Promise<void> {
    const socket = await this.#connect(peerFromTemplate(this.peerTemplate, backend.address));
    socket.destroy();
  }

  async healthStatusChange(backend: Backend, healthy: boolean): Promise<void> {
    await this.healthChangedCallback?.(backend, healthy);
  }

  backendSummary(backend: Backend): string {
    return this.backendSummaryCallback?.(backend) ?? backend.toString();
  }
}
