/**
 * One attempt at the upstream, as one object holding what the attempt needs (session, ctx, peer,
 * connection): pick the peer, get a connection, run the request-side phases, send the request and
 * pump its body, then run the upstream-side response phases and hand the response to a
 * {@link ProxyResponseHandler} (the response writer, or a cache tee in front of it). It owns the
 * connection and gives it back to the pool once the upstream's part is over. It settles with
 * `undefined` (done) or the error for the retry loop.
 */
import type {
  Connector,
  HttpPeer,
  UpstreamResponseFacts,
  UpstreamResponseHandler,
  UpstreamSession,
} from '@pingora-ts/core';
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { upstreamRequestFilter as cacheUpstreamRequestFilter } from '@pingora-ts/cache';
import { BodyStreamStage, type StageOwner } from './body-stream.js';
import { CacheMissTee, fillsCache } from './cache/miss-tee.js';
import type { ProxyCache } from './cache/proxy-cache.js';
import {
  publishUpstreamConnected,
  publishUpstreamHeaders,
  publishUpstreamOver,
  publishUpstreamRequest,
  publishUpstreamStart,
  upstreamConnectedChannel,
  upstreamEndChannel,
  upstreamErrorChannel,
  upstreamHeadersChannel,
  upstreamRequestChannel,
  upstreamStartChannel,
} from './diagnostics.js';
import { defaultErrorWhileProxy } from './fail-to-proxy.js';
import { isPromise, type Phases, phaseError } from './phases.js';
import type { ProxyResponseHandler, ResponseController } from './response-handler.js';
import { runResponseHeaderFilters, UPSTREAM_HEADER_STEPS } from './response-header-filters.js';
import { applyFilter, ResponseWriter } from './response-writer.js';
import { type ForwarderOwner, RequestBodyForwarder } from './request-forwarder.js';
import type { Session } from './session.js';
import { bodyMode, digestOf, upstreamRequest } from './upstream-request.js';
import { tunnel } from './tunnel.js';

/** What an attempt needs from the proxy that runs it. */
export interface AttemptOwner<Ctx> {
  readonly phases: Phases<Ctx>;
  readonly connector: Connector;
  /** Idle limit of an upgraded tunnel, ms; `undefined` = none. */
  readonly tunnelIdleTimeout: number | undefined;
  /** The cache phases, when the proxy defines `requestCacheFilter`. */
  readonly proxyCache: ProxyCache<Ctx> | undefined;
}

/** Settles one attempt: `undefined` on success, else the error (already passed through `errorWhileProxy`). */
type AttemptDone = (error: PingoraError | undefined) => void;

const KEEP_UPGRADE = { keepUpgrade: true } as const;
const END = Symbol('end');

function toError(e: unknown, context: string): PingoraError {
  return isPingoraError(e) ? e : PingoraError.because(ErrorType.InternalError, context, e).asIn();
}

/** @internal */
export class UpstreamAttempt<Ctx>
  implements UpstreamResponseHandler, ResponseController, ForwarderOwner, StageOwner
{
  private readonly phases: Phases<Ctx>;
  private peer!: HttpPeer;
  private conn!: UpstreamSession;
  private reused = false;
  private done!: AttemptDone;
  private settled = false;
  // The connection went back to the pool: a later failure must not destroy it.
  private released = false;
  private handler: ProxyResponseHandler | undefined = undefined;
  private decoder: BodyStreamStage | undefined = undefined;
  // Body events held back while an async upstream header phase runs.
  private queue: Array<Buffer | typeof END> | undefined;
  private trailers: string[] | undefined;
  private headRequest = false;
  // The request was changed for the cache (HEAD to GET, Range and conditionals removed).
  private forCache = false;
  // The client left before the response head of a cache fill: the fill goes on without it.
  private orphaned: PingoraError | undefined = undefined;
  // upstream:end or upstream:error was published (once per attempt, whichever ending comes first).
  private upstreamOverPublished = false;

  constructor(
    private readonly owner: AttemptOwner<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
  ) {
    this.phases = owner.phases;
  }

  /**
   * Runs the attempt; resolves with the error that ended it, or `undefined`. Never rejects. Written
   * as promise-returning steps rather than one async function so that the common path (a
   * synchronous `upstreamPeer`, a pooled connection, no request phases) allocates one promise.
   */
  run(): Promise<PingoraError | undefined> {
    this.session.attemptStage = 0;
    let r: HttpPeer | Promise<HttpPeer>;
    try {
      r = this.phases.upstreamPeer(this.session, this.ctx);
    } catch (e) {
      return Promise.resolve(phaseError(e, 'upstreamPeer'));
    }
    if (isPromise<HttpPeer>(r)) {
      return r.then(
        (peer) => this.withPeer(peer),
        (e: unknown) => phaseError(e, 'upstreamPeer'),
      );
    }
    return this.withPeer(r);
  }

  private withPeer(peer: HttpPeer): Promise<PingoraError | undefined> {
    this.peer = peer;
    this.session.upstreamPeer = peer;
    this.session.beginUpstream();
    if (upstreamStartChannel.hasSubscribers) publishUpstreamStart(this.session, peer);
    const conn = this.owner.connector.reusedHttpSession(peer);
    if (conn === undefined) return this.connectThenSend();
    return this.send(conn, true);
  }

  private async connectThenSend(): Promise<PingoraError | undefined> {
    const s = this.session;
    let conn: UpstreamSession;
    try {
      conn = await this.owner.connector.newHttpSession(this.peer);
    } catch (e) {
      s.upstreamConnectTime = s.upstreamTotal = performance.now() - s.upstreamStart;
      let err = toError(e, 'connect failed');
      const f = this.phases.failToConnect;
      if (f !== null) {
        try {
          err = f(s, this.peer, this.ctx, err);
        } catch (e2) {
          err = phaseError(e2, 'failToConnect');
        }
      }
      this.upstreamOver(err, 'connect');
      return err;
    }
    return this.send(conn, false);
  }

  private send(conn: UpstreamSession, reused: boolean): Promise<PingoraError | undefined> {
    const s = this.session;
    this.conn = conn;
    this.reused = s.upstreamReused = reused;
    s.attemptStage = 2;
    if (!reused) {
      const t = conn.timing;
      s.upstreamConnectTime = t.connect;
      s.upstreamTlsTime = t.tlsHandshake;
    }
    if (upstreamConnectedChannel.hasSubscribers) publishUpstreamConnected(s, this.peer, conn.httpVersion);
    const p = this.phases;
    if (p.connectedToUpstream !== null || p.upstreamRequestFilter !== null) return this.sendAfterPhases();
    return this.start(undefined);
  }

  private async sendAfterPhases(): Promise<PingoraError | undefined> {
    const p = this.phases;
    const s = this.session;
    let up: RequestHeader;
    let phase = 'connectedToUpstream';
    try {
      if (p.connectedToUpstream !== null) {
        const digest = digestOf(this.conn, this.peer, this.reused);
        const r = p.connectedToUpstream(s, this.reused, this.peer, digest, this.ctx);
        if (isPromise(r)) await r;
      }
      phase = 'upstreamRequestFilter';
      up = upstreamRequest(this.session, this.conn);
      if (p.upstreamRequestFilter !== null) {
        const r = p.upstreamRequestFilter(s, up, this.ctx);
        if (isPromise(r)) await r;
      }
    } catch (e) {
      this.conn.destroy();
      const err = phaseError(e, phase);
      this.upstreamOver(err, 'request');
      return err;
    }
    return this.start(up);
  }

  // Sends the request header and, if any, the body; the promise settles when the attempt does.
  private start(prepared: RequestHeader | undefined): Promise<PingoraError | undefined> {
    return new Promise<PingoraError | undefined>((resolve: AttemptDone) => {
      this.done = resolve;
      const s = this.session;
      try {
        const up = prepared ?? upstreamRequest(this.session, this.conn);
        const cache = s.cacheIfUsed;
        // A cacheable request asks for the whole representation, conditionally when revalidating.
        if (cache?.enabled()) {
          cacheUpstreamRequestFilter(up, cache.phase === 'Stale' ? cache.maybeCacheMeta() : undefined);
          this.forCache = true;
        }
        // Pingora's upstream compression reads the request as it goes upstream (its Accept-Encoding).
        s.upstreamCompressionCtx?.requestHeaderFilter(up);
        const framing = bodyMode(this.phases, s, up);
        this.headRequest = up.method === 'HEAD';
        if (upstreamRequestChannel.hasSubscribers) publishUpstreamRequest(s, this.peer, up);
        s.downstream.onClientGone(this.onClientGone);
        // PeerOptions carries readTimeout/writeTimeout itself: no timeouts object per attempt.
        this.conn.sendRequest(up, this, framing, this.peer.options);
        if (framing !== 'none') {
          const mods = s.downstreamModules;
          const filtered = mods?.hasRequestBodyFilter ? mods : undefined;
          s.body.attach(new RequestBodyForwarder(this, this.phases, s, this.ctx, this.conn, filtered));
        }
      } catch (e) {
        this.conn.destroy();
        this.settled = true;
        const err = toError(e, 'upstream request phase failed');
        this.upstreamOver(err, 'request');
        resolve(err);
      }
    });
  }

  // --- the upstream response (UpstreamResponseHandler) ---

  // An origin's 103 goes to the client ahead of the final head (a proxy forwards 1xx); the
  // session drops what the client cannot take.
  onInformational(resp: ResponseHeader): void {
    if (this.settled || resp.status !== 103 || this.session.responseWritten() !== undefined) return;
    resp.stripHopByHop();
    this.session.downstream.writeInformationalResponse(resp);
  }

  onResponseHeader(resp: ResponseHeader, head: UpstreamResponseFacts): void {
    const s = this.session;
    const t = this.conn.timing;
    if (t.firstByte !== 0) s.upstreamFirstByte = t.firstByte - t.requestSent;
    resp.stripHopByHop(head.upgrade ? KEEP_UPGRADE : undefined);
    if (upstreamHeadersChannel.hasSubscribers) publishUpstreamHeaders(s, this.peer, resp);
    const noBody = head.body === 'none';
    // Only the HTTP/1.1 parser reports the end in the same call as the chunk that completes the
    // length. An HTTP/2 stream ends in a later event, or never (an origin that forgets END_STREAM):
    // holding its last chunk for the end would keep the whole body from the client until a timeout.
    let lastChunkEnds = head.body === 'length' && this.conn.httpVersion === 1;
    // A body filter may change the length, so the downstream framing is left to node (chunked).
    if (!noBody && this.phases.upstreamResponseBodyFilter !== null) {
      resp.removeHeader('Content-Length');
      lastChunkEnds = false;
    }
    const headRequest = s.reqHeader().method === 'HEAD';
    const writer = new ResponseWriter(this.phases, s, this.ctx, headRequest);
    const cache = s.cacheIfUsed;
    const pc = this.owner.proxyCache;
    this.handler =
      cache !== undefined && pc !== undefined && (cache.enabled() || cache.bypassing())
        ? new CacheMissTee(pc, s, this.ctx, writer, headRequest, this.forCache)
        : writer;
    if (this.phases.upstreamResponseFilter === null && s.upstreamCompressionCtx === undefined) {
      this.handler.onResponseStart(this, resp, head, lastChunkEnds);
      if (this.orphaned !== undefined) this.adoptOrphan();
      return;
    }
    const r = runResponseHeaderFilters(this.phases, s, this.ctx, resp, noBody, UPSTREAM_HEADER_STEPS);
    if (r === undefined) {
      this.headerReady(resp, head, lastChunkEnds);
      return;
    }
    this.queue = [];
    this.conn.pauseResponse();
    r.then(
      () => {
        if (this.settled) return;
        this.headerReady(resp, head, lastChunkEnds);
        if (this.settled) return;
        const q = this.queue!;
        this.queue = undefined;
        for (const item of q) {
          if (item === END) this.takeEnd();
          else this.takeBody(item);
        }
        if (!this.released) this.conn.resumeResponse();
      },
      (e: unknown) => this.failed(phaseError(e, 'upstreamResponseFilter')),
    );
  }

  // The upstream header filters ran: set up the upstream decompressor, then hand the head on.
  private headerReady(resp: ResponseHeader, head: UpstreamResponseFacts, lastChunkEnds: boolean): void {
    let ends = lastChunkEnds;
    if (head.body !== 'none' && !head.upgrade) {
      let dec: import('node:stream').Duplex | undefined;
      try {
        dec = this.session.upstreamCompressionCtx?.responseBodyStream();
      } catch (e) {
        this.failed(phaseError(e, 'responseBodyStream'));
        return;
      }
      if (dec !== undefined) {
        resp.removeHeader('Content-Length');
        ends = false;
        this.decoder = new BodyStreamStage(dec, this, 'upstream compression', true);
      }
    }
    this.handler!.onResponseStart(this, resp, head, ends);
    if (this.orphaned !== undefined) this.adoptOrphan();
  }

  // The head of a fill whose client left arrived: the tee stores the rest without the client, or,
  // when nothing is stored, the attempt ends.
  private adoptOrphan(): void {
    const gone = this.orphaned!;
    const h = this.handler;
    if (h instanceof CacheMissTee && h.continueWithoutClient(gone, this.abortAttempt.bind(this))) return;
    this.abortAttempt(gone);
  }

  onResponseBody(chunk: Buffer): void {
    if (this.settled) return;
    if (this.queue !== undefined) this.queue.push(chunk);
    else this.takeBody(chunk);
  }

  // An upstream body chunk enters the path: through the upstream decompressor if there is one.
  private takeBody(chunk: Buffer): void {
    this.session.upstreamBodyBytesReceived += chunk.length;
    if (this.decoder !== undefined) this.decoder.write(chunk);
    else this.forwardBody(chunk);
  }

  private forwardBody(chunk: Buffer): void {
    let c: Buffer | null | undefined = chunk;
    const f = this.phases.upstreamResponseBodyFilter;
    if (f !== null) {
      try {
        c = applyFilter(f(this.session, c, false, this.ctx), c);
      } catch (e) {
        this.failed(phaseError(e, 'upstreamResponseBodyFilter'));
        return;
      }
      if (c === null || c === undefined) return;
    }
    this.handler!.onResponseData(this, c);
  }

  onResponseTrailers(rawTrailers: string[]): void {
    try {
      this.phases.upstreamResponseTrailerFilter?.(this.session, rawTrailers, this.ctx);
    } catch (e) {
      this.failed(phaseError(e, 'upstreamResponseTrailerFilter'));
      return;
    }
    this.trailers = rawTrailers;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.queue !== undefined) this.queue.push(END);
    else this.takeEnd();
  }

  private takeEnd(): void {
    const dec = this.decoder;
    if (dec === undefined) {
      this.finishUpstream();
      return;
    }
    // The upstream is done: pooled now, not once a slow client let the decoder flush.
    this.releaseUpstream();
    dec.end();
  }

  // The upstream's part ends: its end-of-body filter call, the connection back to the pool, then
  // the trailers and the end go to the handler.
  private finishUpstream(): void {
    const s = this.session;
    s.upstreamTotal = performance.now() - s.upstreamStart;
    const f = this.phases.upstreamResponseBodyFilter;
    let last: Buffer | null | undefined;
    if (f !== null && !this.headRequest) {
      try {
        last = applyFilter(f(s, undefined, true, this.ctx), undefined);
      } catch (e) {
        this.failed(phaseError(e, 'upstreamResponseBodyFilter'));
        return;
      }
    }
    this.releaseUpstream();
    const h = this.handler!;
    if (last) h.onResponseData(this, last);
    if (this.settled) return;
    if (this.trailers !== undefined) h.onResponseTrailers(this, this.trailers);
    h.onResponseEnd(this);
  }

  private releaseUpstream(): void {
    if (this.released) return;
    this.released = true;
    this.owner.connector.releaseHttpSession(this.conn, this.peer);
    this.upstreamOver(undefined, 'request');
  }

  onError(error: PingoraError): void {
    this.failed(error);
  }

  onUpgrade(socket: import('node:net').Socket, head: Buffer | undefined): void {
    const down = this.session.downstream.takeUpgradeSocket();
    if (down === undefined) {
      socket.destroy();
      this.settle(
        PingoraError.explain(ErrorType.H1Error, 'upstream switched protocols on a plain request').asUp(),
      );
      return;
    }
    const clientHead = this.session.bodyIfUsed?.tunnelHead(down.head) ?? down.head;
    tunnel(down.socket, clientHead, socket, head, (err) => this.settle(err), this.owner.tunnelIdleTimeout);
  }

  // --- the handler steers the upstream (ResponseController) ---

  // What feeds the handler: the upstream decompressor when there is one, else the upstream (never
  // once released: the pool may have handed the connection to another request).
  pause(): void {
    if (this.decoder !== undefined) this.decoder.pauseOutput();
    else if (!this.released) this.conn.pauseResponse();
  }

  resume(): void {
    if (this.settled) return;
    if (this.decoder !== undefined) this.decoder.resumeOutput();
    else if (!this.released) this.conn.resumeResponse();
  }

  abort(error: PingoraError): void {
    this.failed(error);
  }

  complete(): void {
    this.settle(undefined);
  }

  // --- the upstream decompressor (StageOwner) ---

  stageData(_stage: BodyStreamStage, chunk: Buffer): void {
    if (!this.settled) this.forwardBody(chunk);
  }

  stageEnd(_stage: BodyStreamStage, last: Buffer | undefined): void {
    if (this.settled) return;
    if (last !== undefined) this.forwardBody(last);
    if (!this.settled) this.finishUpstream();
  }

  stageError(_stage: BodyStreamStage, error: PingoraError): void {
    this.failed(error);
  }

  pauseInput(_stage: BodyStreamStage): void {
    if (!this.released) this.conn.pauseResponse();
  }

  resumeInput(_stage: BodyStreamStage): void {
    if (!this.settled && !this.released) this.conn.resumeResponse();
  }

  // --- endings ---

  // `reason` is set when the session cut the client itself (a downstream write timeout).
  private readonly onClientGone = (reason: PingoraError | undefined): void => {
    if (this.settled) return;
    const error =
      reason ?? PingoraError.explain(ErrorType.ConnectionClosed, 'client closed the connection').asDown();
    // A cache fill in progress reads the rest of the response into the cache first (the next
    // request for it is a hit); the attempt then ends with the client's error.
    const h = this.handler;
    if (h instanceof CacheMissTee && h.continueWithoutClient(error, this.abortAttempt.bind(this))) return;
    if (h === undefined && this.forCache && fillsCache(this.session, this.owner.proxyCache)) {
      this.orphaned = error;
      return;
    }
    this.abortAttempt(error);
  };

  /** @internal The attempt is over (the request body forwarder drops what still arrives). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** @internal The client side failed: drop the upstream connection (it may be mid-request). */
  abortAttempt(error: PingoraError): void {
    if (this.settled) return;
    if (!this.released) this.conn.destroy();
    this.settle(error.setRetry(false));
  }

  /** The upstream side (or the handler) failed. */
  private failed(error: PingoraError): void {
    if (this.settled) return;
    if (!this.released) this.conn.destroy();
    let e = error;
    const p = this.phases;
    if (p.errorWhileProxy !== null) e = p.errorWhileProxy(this.peer, this.session, e, this.ctx, this.reused);
    else e = defaultErrorWhileProxy(this.peer, this.session, e, this.reused);
    // Once the client has a response head, nothing can be retried or re-answered (the proxy's
    // error path aborts the downstream response and logs why).
    if (this.session.responseWritten() !== undefined) e.setRetry(false);
    this.settle(e);
  }

  // The upstream's part of the attempt is over: one upstream:end or upstream:error per attempt.
  private upstreamOver(error: PingoraError | undefined, stage: 'connect' | 'request'): void {
    if (this.upstreamOverPublished) return;
    this.upstreamOverPublished = true;
    if (upstreamEndChannel.hasSubscribers || upstreamErrorChannel.hasSubscribers)
      publishUpstreamOver(this.session, this.peer, error, stage);
  }

  private settle(error: PingoraError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    if (error !== undefined) {
      this.decoder?.destroy();
      this.handler?.onResponseError(error);
    }
    const s = this.session;
    if (s.upstreamTotal < 0) s.upstreamTotal = performance.now() - s.upstreamStart;
    // A failure once the upstream's part was over (the response was received) is not the upstream's.
    if (!this.released) this.upstreamOver(error, 'request');
    s.bodyIfUsed?.detach();
    this.done(error);
  }
}
