/**
 * The proxy under test of the Pingora port tests: the two `ProxyHttp`s Pingora's proxy integration
 * tests run, steered by request headers the same way, and the services they listen on.
 *
 * Plain-peer proxy (`http`, `h2c`, `connect`, and a Unix socket): `x-port` picks the origin port,
 * `x-h2: true` speaks h2c upstream, `x-uds-peer` goes to the origin's Unix socket,
 * `x-write-timeout` (s) and `x-min-rate` (bytes/s) set the downstream session's; responses are
 * gzip-compressed (level 6) by the upstream compression, or by the downstream module with
 * `x-downstream-compression`.
 * TLS-peer proxy (`https` plain, `tls` with h2): `sni`, `alt` (alternative CN), `verify`,
 * `verify_host` (`"1"` turns each on, as in Pingora where both default off), `client_cert`
 * (`1` or `2`, two different certificates), `client_intermediate`, `x-h2`, `host-override`.
 * Both add to every response `x-client-addr`, `x-server-addr`, `x-upstream-client-addr`,
 * `x-upstream-server-addr` (`unset` when there is none) and `x-conn-reuse` on a pooled connection.
 * Upstream connections leave from 127.0.0.2 (`client_bind_to_ipv4`), CAs from `ca_file`.
 */
import {
  type CertKey,
  formatHostPort,
  HttpPeer,
  type HttpServerOptions,
  type Service,
  ShutdownController,
  TlsSettings,
} from '@pingora-ts/core';
import { type CapturedLog, memoryLogger, startService } from '@pingora-ts/test-utils';
import { httpProxyService, type ProxyConf, type ProxyHttp, type Session } from '../src/index.js';
import { PKI, type PingoraOrigin, pki } from './pingora-origin.js';

/** Per-request state: what `connectedToUpstream` learnt, for the response headers. */
export interface PingoraCtx {
  connReused: boolean;
  upstreamClientAddr: string | undefined;
  upstreamServerAddr: string | undefined;
}

const newCtx = (): PingoraCtx => ({
  connReused: false,
  upstreamClientAddr: undefined,
  upstreamServerAddr: undefined,
});

const hostPort = (addr: string | undefined, port: number | undefined): string | undefined =>
  addr === undefined ? undefined : port === undefined ? addr : formatHostPort(addr, port);

// The phases both proxies share: remember the upstream connection, report the four addresses.
const common: Pick<ProxyHttp<PingoraCtx>, 'newCtx' | 'connectedToUpstream' | 'responseFilter'> = {
  newCtx,
  connectedToUpstream(_session, reused, _peer, digest, ctx) {
    ctx.connReused = reused;
    ctx.upstreamClientAddr = hostPort(digest.localAddress, digest.localPort);
    ctx.upstreamServerAddr = hostPort(digest.remoteAddress, digest.remotePort);
  },
  responseFilter(session, resp, ctx) {
    if (ctx.connReused) resp.insertHeader('x-conn-reuse', '1');
    resp.insertHeader('x-client-addr', session.clientAddr()?.toString() ?? 'unset');
    resp.insertHeader('x-server-addr', session.serverAddr()?.toString() ?? 'unset');
    resp.insertHeader('x-upstream-client-addr', ctx.upstreamClientAddr ?? 'unset');
    resp.insertHeader('x-upstream-server-addr', ctx.upstreamServerAddr ?? 'unset');
  },
};

const wantsH2 = (session: Session) => session.getHeader('x-h2') === 'true';

/** Pingora's `ExampleProxyHttp`: plain peers on the origin. */
export function exampleProxyHttp(origin: PingoraOrigin): ProxyHttp<PingoraCtx> {
  return {
    ...common,
    // Compression as Pingora's test proxy sets it: upstream compression unless the request asks
    // for the downstream module (`x-downstream-compression`), which is otherwise left off.
    earlyRequestFilter(session) {
      if (session.getHeader('x-downstream-compression') !== undefined) {
        session.downstreamCompression?.adjustLevel(6);
      } else {
        session.upstreamCompression.adjustLevel(6);
      }
    },
    requestFilter(session) {
      const writeTimeout = session.getHeader('x-write-timeout');
      if (writeTimeout !== undefined) session.setWriteTimeout(Number(writeTimeout) * 1000);
      const minRate = session.getHeader('x-min-rate');
      if (minRate !== undefined) session.setMinSendRate(Number(minRate));
      return false;
    },
    upstreamPeer(session) {
      if (session.getHeader('x-uds-peer') !== undefined) return HttpPeer.newUds(origin.udsPath, false, '');
      const h2 = wantsH2(session);
      const port = session.getHeader('x-port') ?? (h2 ? origin.h2cPort : origin.port);
      const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
      if (h2) peer.options.setHttpVersion(2, 2);
      return peer;
    },
  };
}

/** The two client certificates (`client_cert: 1|2`); the first is issued by the intermediate CA. */
function clientCert(which: string, withIntermediate: boolean): CertKey {
  const [cert, key] = which === '1' ? ['chain-client.pem', 'chain-client.key'] : ['client.pem', 'client.key'];
  return {
    cert: withIntermediate ? [pki(cert), pki('intermediate.pem')] : pki(cert),
    key: pki(key),
  };
}

/** Pingora's `ExampleProxyHttps`: TLS peers on the origin. */
export function exampleProxyHttps(origin: PingoraOrigin): ProxyHttp<PingoraCtx> {
  return {
    ...common,
    upstreamPeer(session) {
      const port = session.getHeader('x-port') ?? origin.tlsPort;
      const peer = new HttpPeer(`127.0.0.1:${port}`, true, session.getHeader('sni') ?? '');
      peer.options.alternativeCn = session.getHeader('alt');
      peer.options.verifyCert = session.getHeader('verify') === '1';
      peer.options.verifyHostname = session.getHeader('verify_host') === '1';
      const cert = session.getHeader('client_cert');
      if (cert === '1' || cert === '2') {
        peer.clientCertKey = clientCert(cert, session.getHeader('client_intermediate') === '1');
      }
      if (wantsH2(session)) peer.options.setHttpVersion(2, 2);
      return peer;
    },
    upstreamRequestFilter(session, req) {
      const host = session.getHeader('host-override');
      if (host !== undefined) req.insertHeader('host', host);
    },
  };
}

/** The listening ports of {@link startPingoraProxies}. */
export interface PingoraProxies {
  /** Plain proxy, HTTP/1.x (Pingora's 6147). */
  http: number;
  /** The plain proxy on a Unix socket (Pingora's /tmp/pingora_proxy.sock). */
  udsPath: string;
  /** Plain proxy with h2c on (Pingora's 6146). */
  h2c: number;
  /** Plain proxy that lets CONNECT through (Pingora's 6160). */
  connect: number;
  /** TLS-peer proxy, plain HTTP/1.x downstream (Pingora's 6149). */
  https: number;
  /** TLS-peer proxy behind a TLS listener offering h2 (Pingora's 6150). */
  tls: number;
  /** What every service logged. */
  logs: CapturedLog[];
}

const CONF: ProxyConf = { clientBindToIpv4: ['127.0.0.2'], caFile: `${PKI}/ca.pem` };

async function start(
  logs: CapturedLog[],
  inner: ProxyHttp<PingoraCtx>,
  listen: (s: Service) => void,
  serverOptions: HttpServerOptions = {},
): Promise<Service> {
  const logger = memoryLogger(logs);
  const service = httpProxyService(CONF, inner, { logger, serverOptions });
  listen(service);
  await startService(service, new ShutdownController());
  return service;
}

const portOf = (s: Service, i = 0): number => {
  const a = s.addresses()[i];
  return a?.kind === 'tcp' ? a.port : 0;
};

/** Starts the four proxy services in front of `origin`; all close on `closeAll()`. */
export async function startPingoraProxies(origin: PingoraOrigin): Promise<PingoraProxies> {
  const udsPath = `${origin.udsPath}.proxy`;
  const logs: CapturedLog[] = [];
  const http = await start(logs, exampleProxyHttp(origin), (s) => {
    s.addTcp('127.0.0.1:0');
    s.addUds(udsPath);
  });
  const h2c = await start(logs, exampleProxyHttp(origin), (s) => s.addTcp('127.0.0.1:0'), { h2c: true });
  const connect = await start(logs, exampleProxyHttp(origin), (s) => s.addTcp('127.0.0.1:0'), {
    allowConnectMethodProxying: true,
  });
  const settings = TlsSettings.intermediate(`${PKI}/localhost.pem`, `${PKI}/localhost.key`).enableH2();
  const https = await start(logs, exampleProxyHttps(origin), (s) => {
    s.addTcp('127.0.0.1:0');
    s.addTlsWithSettings('127.0.0.1:0', undefined, settings);
  });
  return {
    http: portOf(http),
    udsPath,
    h2c: portOf(h2c),
    connect: portOf(connect),
    https: portOf(https),
    tls: portOf(https, 1),
    logs,
  };
}
