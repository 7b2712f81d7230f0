/**
 * Opening a connection to a peer: TCP (happy eyeballs over every A/AAAA record) or a Unix socket,
 * then TLS when the peer asks for it, each bounded by Pingora's connection timeouts. Failures are
 * `PingoraError`s with source Upstream and the peer in the context, typed by cause (refused,
 * timed out, no route, TLS handshake, invalid certificate).
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { isCertVerifyError } from '@pingora-ts/tls-openssl';
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
 *
 * @example
 * ```ts
 * const timing = { connect: 0, tlsHandshake: 0 };
 * const socket = await connectPeer(new HttpPeer('1.1.1.1:443', true, 'one.one.one.one'), timing);
 * console.log(`connect ${timing.connect} ms, TLS ${timing.tlsHandshake} ms`);
 * ```
 */
export function connectPeer(peer: HttpPeer, timing?: ConnectTiming): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const o = peer.options;
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

    const tcp =
      a.kind === 'unix'
        ? net.connect({ path: a.path })
        : net.connect({
            host: a.host,
            port: a.port,
            noDelay: true,
            autoSelectFamily: true,
            localAddress: o.bindTo,
            keepAlive: o.tcpKeepalive !== undefined,
            keepAliveInitialDelay: o.tcpKeepalive?.idle ?? 0,
          });
    sockets.push(tcp);
    tcp.on('error', onError);
    tcp.once('connect', () => {
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
        secure = tls.connect({ ...tlsConnectOptions(peer), socket: tcp });
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
    });
  });
}

function noop(): void {}
