/**
 * How the proxy connects to one cluster: the `tls`, `http2` and `timeouts` keys of an `upstreams`
 * entry turned into one `PeerOptions` and the TLS fields of `HttpPeer`. Files are read here, once;
 * every peer of the cluster shares the result.
 */
import { createSecureContext } from 'node:tls';
import { type CertKey, PeerOptions } from '@pingora-ts/core';
import type { BuildContext } from '../runtime/contracts.js';
import type { Upstream } from '../schema/index.js';
import { configError, readCaFile, readConfigFile } from './pem-file.js';

/** The gateway's connect timeout when the file sets none (the schema's documented 5 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Streams per upstream HTTP/2 connection. Pingora's default of 1 gives up multiplexing; 100 is
 * what most servers advertise as their concurrent-stream limit.
 */
export const UPSTREAM_H2_STREAMS = 100;

/** What every peer of a cluster has in common. */
export interface PeerTemplate {
  /** Shared by every peer of the cluster (not copied per request). */
  readonly options: PeerOptions;
  readonly tls: boolean;
  /** `tls.sni` from the file; undefined = each backend's host name. */
  readonly sni: string | undefined;
  readonly clientCertKey: CertKey | undefined;
}

/**
 * Builds the connection settings of cluster `name`.
 * @param keyPath the cluster's key path for error messages, e.g. `upstreams.api`.
 * @throws Error naming the key and the file when a CA or client certificate cannot be read or is
 *   not valid PEM.
 */
export function peerTemplate(upstream: Upstream, keyPath: string, ctx: BuildContext): PeerTemplate {
  const options = new PeerOptions();
  const t = upstream.timeouts;
  options.connectionTimeout = t?.connect ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (t?.total_connect !== undefined) options.totalConnectionTimeout = t.total_connect;
  if (t?.read !== undefined) options.readTimeout = t.read;
  if (t?.write !== undefined) options.writeTimeout = t.write;
  if (t?.idle !== undefined) options.idleTimeout = t.idle;

  const tlsConf = upstream.tls;
  const tls = tlsConf !== false;
  if (upstream.http2) {
    // Over TLS ALPN negotiates with an HTTP/1.1 fallback; in clear text only prior knowledge works.
    options.alpn = tls ? 'h2h1' : 'h2';
    options.maxH2Streams = UPSTREAM_H2_STREAMS;
  }
  if (typeof tlsConf !== 'object') return { options, tls, sni: undefined, clientCertKey: undefined };

  if (!tlsConf.verify) {
    options.verifyCert = false;
    options.verifyHostname = false;
  }
  if (tlsConf.ca !== undefined) {
    const key = `${keyPath}.tls.ca`;
    const ca = readCaFile(ctx.baseDir, tlsConf.ca, key);
    checkPem(key, tlsConf.ca, () => createSecureContext({ ca }));
    options.ca = ca;
  }
  let clientCertKey: CertKey | undefined;
  if (tlsConf.client_cert !== undefined && tlsConf.client_key !== undefined) {
    const cert = readConfigFile(ctx.baseDir, tlsConf.client_cert, `${keyPath}.tls.client_cert`);
    const key = readConfigFile(ctx.baseDir, tlsConf.client_key, `${keyPath}.tls.client_key`);
    checkPem(`${keyPath}.tls.client_cert`, tlsConf.client_cert, () => createSecureContext({ cert, key }));
    clientCertKey = { cert, key };
  }
  return { options, tls, sni: tlsConf.sni, clientCertKey };
}

/** Runs `build` (a secure context from the material) so bad PEM fails now, naming the key. */
function checkPem(keyPath: string, path: string, build: () => unknown): void {
  try {
    build();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw configError(keyPath, `${path} is not usable PEM (${why})`, err);
  }
}
