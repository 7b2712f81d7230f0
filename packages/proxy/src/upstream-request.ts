/**
 * What an upstream attempt sends: the upstream copy of the client's request, how its body is
 * framed, and the digest `connectedToUpstream` receives.
 */
import type { HttpPeer, UpstreamSession } from '@pingora-ts/core';
import type { RequestHeader } from '@pingora-ts/http';
import type { Phases } from './phases.js';
import type { UpstreamDigest } from './proxy-http.js';
import type { Session } from './session.js';

const KEEP_UPGRADE = { keepUpgrade: true } as const;
const KEEP_TE_TRAILERS = { keepTeTrailers: true } as const;

/** @internal A copy of the client's request for the upstream: hop-by-hop fields and Expect removed. */
export function upstreamRequest(session: Session, conn: UpstreamSession): RequestHeader {
  const up = session.reqHeader().clone();
  const upgrade = session.isUpgradeReq();
  // HTTP/2 upstreams get `te: trailers` (gRPC needs it); HTTP/2 forbids every other TE.
  up.stripHopByHop(upgrade ? KEEP_UPGRADE : conn.httpVersion === 2 ? KEEP_TE_TRAILERS : undefined);
  up.removeHeader('Expect');
  return up;
}

/**
 * @internal How the upstream request body is framed. A body that a filter may rewrite, or that
 * was partly consumed, cannot keep its Content-Length: it is streamed (chunked on HTTP/1.1). An
 * upgrade request's body goes too, before the 101: the origin may read it before it answers.
 */
export function bodyMode<Ctx>(
  phases: Phases<Ctx>,
  session: Session,
  up: RequestHeader,
): 'none' | 'length' | 'stream' {
  if (!session.downstream.hasRequestBody) return 'none';
  const keepLength =
    phases.requestBodyFilter === null &&
    session.downstreamModules?.hasRequestBodyFilter !== true &&
    !session.body.consumed &&
    up.headers.get('content-length') !== undefined;
  return keepLength ? 'length' : 'stream';
}

/** @internal The digest of the connection `connectedToUpstream` receives. */
export function digestOf(conn: UpstreamSession, peer: HttpPeer, reused: boolean): UpstreamDigest {
  const s = conn.socket as import('node:tls').TLSSocket;
  const a = peer.address;
  const d: UpstreamDigest = {
    reused,
    localAddress: s.localAddress,
    localPort: s.localPort,
    // Node names neither end of a Unix socket: the peer's path is where the connection goes.
    remoteAddress: s.remoteAddress ?? (a.kind === 'unix' ? a.path : undefined),
    remotePort: s.remotePort,
    connectedAt: performance.now(),
  };
  if (typeof s.getProtocol === 'function') {
    d.tls = { protocol: s.getProtocol(), alpn: s.alpnProtocol, cipher: s.getCipher()?.name };
  }
  return d;
}
