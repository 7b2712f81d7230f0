/**
 * Opening a connection to a peer: TCP (happy eyeballs over every A/AAAA record, from the source
 * address the peer or the connector asks for) or a Unix socket, then TLS when the peer asks for
 * it, each bounded by Pingora's connection timeouts. Failures are `PingoraError`s with source
 * Upstream and the peer in the context, typed by cause (refused, timed out, no route, TLS
 * handshake, invalid certificate).
 */
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { isCertVerifyError, type Pem } from '@pingora-ts/tls-openssl';
import type { HttpPeer } from './peer.js';
import { tlsConnectOptions } from './tls-options.js';

/**
 * Maps a socket-level connect failure to Pingora's error types. During the TLS stage a
 * certificate verification failure is `InvalidCert`, anything else `TLSHandshakeFailure`; the
 * context names the peer and node's code (the cause keeps node's message).
 */
export function connectError(err: NodeJS.ErrnoException, peer: HttpPeer, tlsStage: boolean): PingoraError {
  const code = err.code ?? '';
  let type: ErrorType;
  if (tlsStage) type = isCertVerifyError(code) ? ErrorType.InvalidCert : ErrorType.TLSHandshakeFailure;
  else if (code === 'ECONNREFUSED' || code === 'ENOENT') type = ErrorType.ConnectRefused;
  else if (code === 'ETIMEDOUT') type = ErrorType.ConnectTimedout;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') type = ErrorType.ConnectNoRoute;
  else type = ErrorType.ConnectError;
  return PingoraError.because(type, `${peer} ${code}`.trim(), err).asUp();
}

/** How long opening a connection took, ms (from `performance.now()`). */
export interface ConnectTiming {
  /** TCP (or Unix socket) connect, including DNS. */
  connect: number;
  /** TLS handshake after the TCP connect; 0 for plaintext. */
  tlsHandshake: number;
}

/**
 * Connects to `peer`. Resolves with a connected (and, for TLS, handshaken) socket that has an
 * error guard attached; rejects with a typed `PingoraError`. When `timing` is given, it receives
 * the duration of each stage (also of a stage that failed, so a slow refusal shows up in logs).
 * `defaults` are the connector's source addresses and default CA (see {@link ConnectDefaults}).
 * `onread` (plaintext peers only; ignored for TLS) is net's `onread` option: reads go to its
 * callback instead of `'data'` events.
 *
 * @example
 * ```ts
 * const timing = { connect: 0, tlsHandshake: 0 };
 * const socket = await connectPeer(new HttpPeer('1.1.1.1:443', true, 'one.one.one.one'), timing);
 * console.log(`connect ${timing.connect} ms, TLS ${timing.tlsHandshake} ms`);
 * ```
 */
export function connectPeer(
  peer: HttpPeer,
  timing?: ConnectTiming,
  defaults?: ConnectDefaults,
  onread?: net.OnReadOpts,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const o = peer.options;
    const reads = peer.tls ? undefined : onread;
    let stageStart = timing === undefined ? 0 : performance.now();
    const a = peer.address;
    let tlsStage = false;
    let done = false;
    let stageTimer: FastTimer | undefined;
    let totalTimer: FastTimer | undefined;
    const sockets: net.Socket[] = [];

    const finish = (err: PingoraError | undefined, sock?: net.Socket) => {
      if (done) return;
      done = true;
      if (timing !== undefined && err !== undefined) {
        const spent = performance.now() - stageStart;
        if (tlsStage) timing.tlsHandshake = spent;
        else timing.connect = spent;
      }
      stageTimer?.clear();
      totalTimer?.clear();
      for (const s of sockets) {
        s.off('error', onError);
        // Keep a guard: a late error on a socket we hand over or abandon must not crash the process.
        s.on('error', noop);
      }
      if (err !== undefined) {
        for (const s of sockets) s.destroy();
        reject(err);
      } else resolve(sock!);
    };
    const onError = (err: NodeJS.ErrnoException) => finish(connectError(err, peer, tlsStage));
    const onTimeout = (total: boolean) => {
      const type = tlsStage && !total ? ErrorType.TLSHandshakeTimedout : ErrorType.ConnectTimedout;
      const ms = total ? o.totalConnectionTimeout : o.connectionTimeout;
      finish(PingoraError.explain(type, `${peer} timed out after ${ms} ms`).asUp());
    };
    if (o.totalConnectionTimeout !== undefined)
      totalTimer = fastTimeout(onTimeout, o.totalConnectionTimeout, true);
    if (o.connectionTimeout !== undefined) stageTimer = fastTimeout(onTimeout, o.connectionTimeout, false);

    const onTcpConnect = (tcp: net.Socket) => {
      if (done) return;
      if (timing !== undefined) {
        const now = performance.now();
        timing.connect = now - stageStart;
        stageStart = now;
      }
      if (!peer.tls) return finish(undefined, tcp);
      tlsStage = true;
      stageTimer?.clear();
      if (o.connectionTimeout !== undefined) stageTimer = fastTimeout(onTimeout, o.connectionTimeout, false);
      let secure: tls.TLSSocket;
      try {
        secure = tls.connect({ ...tlsConnectOptions(peer, defaults?.ca), socket: tcp });
      } catch (err) {
        // Invalid TLS material on the peer (CA, client certificate): nothing was sent.
        finish(
          PingoraError.because(ErrorType.TLSHandshakeFailure, `${peer} invalid TLS settings`, err).asUp(),
        );
        return;
      }
      sockets.push(secure);
      secure.on('error', onError);
      secure.once('secureConnect', () => {
        if (timing !== undefined) timing.tlsHandshake = performance.now() - stageStart;
        finish(undefined, secure);
      });
    };
    const startTcp = (tcp: net.Socket) => {
      sockets.push(tcp);
      tcp.on('error', onError);
      tcp.once('connect', () => onTcpConnect(tcp));
    };
    if (a.kind === 'unix') return startTcp(net.connect({ path: a.path, onread: reads }));
    const tcpTo = (host: string, family: 0 | 4 | 6, localAddress: string | undefined) =>
      net.connect({
        host,
        port: a.port,
        noDelay: true,
        // Happy eyeballs over every A/AAAA record, unless the source address fixes the family.
        autoSelectFamily: family === 0,
        family: family === 0 ? undefined : family,
        localAddress,
        keepAlive: o.tcpKeepalive !== undefined,
        keepAliveInitialDelay: o.tcpKeepalive?.idle ?? 0,
        onread: reads,
      });
    if (o.bindTo !== undefined && net.isIP(o.bindTo) === 0) {
      const why = `${peer} bindTo ${JSON.stringify(o.bindTo)} is not an IP address`;
      return finish(PingoraError.explain(ErrorType.ConnectError, why).asUp());
    }
    const src = sourceAddress(a.host, o.bindTo, defaults);
    if (src !== RESOLVE_FIRST) return startTcp(tcpTo(a.host, src.family, src.localAddress));
    // Source addresses of both families and a host name: the resolved address picks the family.
    dns.lookup(a.host, (err, address, family) => {
      if (done) return;
      if (err !== null) return finish(connectError(err, peer, false));
      startTcp(tcpTo(address, 0, pick(family === 6 ? defaults!.bindToIpv6! : defaults!.bindToIpv4!)));
    });
  });
}

function noop(): void {}

/**
 * What a {@link Connector} adds to every connection it opens, from the server configuration
 * (Pingora's `ConnectorOptions::from_server_conf`).
 */
export interface ConnectDefaults {
  /**
   * Source addresses of connections to IPv4 upstreams (`client_bind_to_ipv4`), one picked at
   * random per connection. A peer's `options.bindTo` wins.
   */
  readonly bindToIpv4?: readonly string[];
  /** Source addresses of connections to IPv6 upstreams (`client_bind_to_ipv6`). */
  readonly bindToIpv6?: readonly string[];
  /** Trusted CAs of TLS peers that set no `options.ca` (`ca_file`). */
  readonly ca?: Pem;
}

interface Source {
  readonly localAddress: string | undefined;
  /** 0: any (happy eyeballs); 4 or 6: only that family, because the source address has it. */
  readonly family: 0 | 4 | 6;
}

const ANY: Source = { localAddress: undefined, family: 0 };
const RESOLVE_FIRST = Symbol('resolve first');

function pick(list: readonly string[]): string | undefined {
  return list.length <= 1 ? list[0] : list[Math.floor(Math.random() * list.length)];
}

/**
 * Pingora's choice of source address: the peer's `bindTo`, else one of the connector's addresses
 * of the upstream's family. For a host name the family is not known before resolving: a single
 * family of source addresses restricts the lookup to it; with both, the name is resolved first.
 */
function sourceAddress(
  host: string,
  bindTo: string | undefined,
  d: ConnectDefaults | undefined,
): Source | typeof RESOLVE_FIRST {
  const hostFamily = net.isIP(host);
  if (bindTo !== undefined) {
    const family = hostFamily === 0 ? net.isIP(bindTo) : 0;
    return { localAddress: bindTo, family: family as 0 | 4 | 6 };
  }
  const v4 = d?.bindToIpv4 ?? [];
  const v6 = d?.bindToIpv6 ?? [];
  if (v4.length === 0 && v6.length === 0) return ANY;
  if (hostFamily === 4) return { localAddress: pick(v4), family: 0 };
  if (hostFamily === 6) return { localAddress: pick(v6), family: 0 };
  if (v6.length === 0) return { localAddress: pick(v4), family: 4 };
  if (v4.length === 0) return { localAddress: pick(v6), family: 6 };
  return RESOLVE_FIRST;
}
