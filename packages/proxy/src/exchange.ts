/**
 * One attempt at the upstream: send the request, stream the body both ways with backpressure, run
 * the response phases, and settle with `undefined` (done) or the error for the retry loop. It is
 * one object per attempt with bound handlers, so streaming without body filters allocates nothing
 * per chunk.
 */
import type {
  HttpModuleCtx,
  HttpPeer,
  UpstreamResponseFacts,
  UpstreamResponseHandler,
  UpstreamSession,
} from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { BodyStreamStage, type StageOwner } from './body-stream.js';
import { defaultErrorWhileProxy } from './fail-to-proxy.js';
import { type Phases, phaseError } from './phases.js';
import { runResponseHeaderFilters } from './response-header-filters.js';
import { type ForwarderOwner, RequestBodyForwarder } from './request-forwarder.js';
import type { Session } from './session.js';
import { tunnel } from './tunnel.js';

/** What an exchange needs from the proxy that runs it. */
export interface ExchangeOwner {
  /** Gives the upstream connection back (pooled if it ended cleanly). */
  releaseHttpSession(conn: UpstreamSession, peer: HttpPeer): void;
  /** Idle limit of an upgraded tunnel, ms; `undefined` = none. */
  readonly tunnelIdleTimeout: number | undefined;
}

/** Settles one attempt: `undefined` on success, else the error (already passed through `errorWhileProxy`). */
export type AttemptDone = (error: PingoraError | undefined) => void;

const END = Symbol('end');

/** @internal */
export class Exchange<Ctx> implements UpstreamResponseHandler, ForwarderOwner, StageOwner {
  private settled = false;
  // Modules and streams on the body paths (see ./body-stream.ts); unset for a plain exchange.
  private modBody: HttpModuleCtx | undefined = undefined;
  private decoder: BodyStreamStage | undefined = undefined;
  private encoder: BodyStreamStage | undefined = undefined;
  private encoderTrailers: string[] | undefined = undefined;
  // The upstream connection went back to the pool: a later failure must not destroy it.
  private released = false;
  private headerWritten = false;
  // Body events held back while an async response-header phase runs.
  private queue: Array<Buffer | typeof END> | undefined;
  private trailers: string[] | undefined;
  private headRequest = false;
  // Bytes still expected of a Content-Length body (-1 when the length is not known or not
  // tracked). The chunk that completes it is held and written together with the end of the
  // response: node then sends head, body and end in one write for the common single-chunk response.
  private bodyRemaining = -1;
  private finalChunk: Buffer | undefined;

  constructor(
    private readonly phases: Phases<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
    private readonly conn: UpstreamSession,
    private readonly peer: HttpPeer,
    private readonly reused: boolean,
    private readonly owner: ExchangeOwner,
    private readonly done: AttemptDone,
  ) {}

  /** Sends the request header and, if any, the body. */
  start(req: RequestHeader, bodyMode: 'none' | 'length' | 'stream'): void {
    this.headRequest = req.method === 'HEAD';
    this.session.downstream.onClientGone(this.onClientGone);
    // PeerOptions carries readTimeout/writeTimeout itself: no timeouts object per attempt.
    this.conn.sendRequest(req, this, bodyMode, this.peer.options);
    if (bodyMode !== 'none') {
      const mods = this.session.downstreamModules;
      const s = this.session;
      const filtered = mods?.hasRequestBodyFilter ? mods : undefined;
      s.body.attach(new RequestBodyForwarder(this, this.phases, s, this.ctx, this.conn, filtered));
    }
  }

  // --- response (UpstreamResponseHandler) ---

  // An origin's 103 goes to the client ahead of the final head (a proxy forwards 1xx); the
  // session drops what the client cannot take.
  onInformational(resp: ResponseHeader): void {
    if (this.settled || this.headerWritten || resp.status !== 103) return;
    resp.stripHopByHop();
    this.session.downstream.writeInformationalResponse(resp);
  }

  onResponseHeader(resp: ResponseHeader, head: UpstreamResponseFacts): void {
    const t = this.conn.timing;
    if (t.firstByte !== 0) this.session.upstreamFirstByte = t.firstByte - t.requestSent;
    resp.stripHopByHop(head.upgrade ? { keepUpgrade: true } : undefined);
    const noBody = head.body === 'none' || this.headRequest;
    // A body filter may change the length, so the downstream framing is left to node (chunked).
    if (!noBody && this.phases.hasResponseBodyFilter) resp.removeHeader('Content-Length');
    // Only the HTTP/1.1 parser reports the end in the same call as the chunk that completes the
    // length. An HTTP/2 stream ends in a later event, or never (an origin that forgets END_STREAM):
    // holding its last chunk for the end would keep the whole body from the client until a timeout.
    else if (!noBody && head.body === 'length' && this.conn.httpVersion === 1)
      this.bodyRemaining = head.contentLength;
    const p = this.phases;
    const s = this.session;
    if (
      p.upstreamResponseFilter === null &&
      p.responseFilter === null &&
      s.downstreamModules === undefined &&
      s.upstreamCompressionCtx === undefined
    ) {
      this.writeHeader(resp, noBody && !head.upgrade);
      return;
    }
    const r = runResponseHeaderFilters(p, s, this.ctx, resp, noBody);
    if (r === undefined) {
      this.headerReady(resp, noBody, head.upgrade);
      return;
    }
    this.queue = [];
    this.conn.pauseResponse();
    r.then(
      () => {
        if (this.settled) return;
        this.headerReady(resp, noBody, head.upgrade);
        if (this.settled) return;
        const q = this.queue!;
        this.queue = undefined;
        for (const item of q) {
          if (item === END) this.takeEnd();
          else this.takeBody(item);
        }
        this.conn.resumeResponse();
      },
      (e: unknown) => this.failed(phaseError(e, 'responseFilter')),
    );
  }

  // The header filters ran: set up the body path (streams, module body filters), then write.
  private headerReady(resp: ResponseHeader, noBody: boolean, upgrade: boolean): void {
    if (!noBody && !upgrade) {
      try {
        this.setUpBodyPath(resp);
      } catch (e) {
        this.failed(phaseError(e, 'responseBodyStream'));
        return;
      }
    }
    this.writeHeader(resp, noBody && !upgrade);
  }

  // A stream or a module body filter may change the body, so its length goes (node chunks it).
  private setUpBodyPath(resp: ResponseHeader): void {
    const s = this.session;
    const mods = s.downstreamModules;
    const dec = s.upstreamCompressionCtx?.responseBodyStream();
    const enc = mods?.responseBodyStream();
    if (mods?.hasResponseBodyFilter) this.modBody = mods;
    if (dec === undefined && enc === undefined && this.modBody === undefined) return;
    resp.removeHeader('Content-Length');
    this.bodyRemaining = -1;
    if (dec !== undefined) this.decoder = new BodyStreamStage(dec, this, 'upstream compression', true);
    if (enc !== undefined) this.encoder = new BodyStreamStage(enc, this, 'downstream modules', false);
  }

  private writeHeader(resp: ResponseHeader, endOfStream: boolean): void {
    this.headerWritten = true;
    this.session.downstream.writeResponseHeader(resp, endOfStream);
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

  private takeEnd(): void {
    const dec = this.decoder;
    if (dec === undefined) {
      this.finishResponse();
      return;
    }
    // The upstream is done: pooled now, not once a slow client let the decoder flush.
    this.releaseUpstream();
    dec.end();
  }

  private releaseUpstream(): void {
    if (this.released) return;
    this.released = true;
    this.owner.releaseHttpSession(this.conn, this.peer);
  }

  // User body filters, module body filters, then the module stream or the client.
  private forwardBody(chunk: Buffer | undefined): void {
    const s = this.session;
    let c: Buffer | null | undefined = chunk;
    const p = this.phases;
    if (p.hasResponseBodyFilter) {
      let phase = 'upstreamResponseBodyFilter';
      try {
        c = applyFilter(p.upstreamResponseBodyFilter?.(s, c, false, this.ctx), c);
        phase = 'responseBodyFilter';
        if (c !== null) c = applyFilter(p.responseBodyFilter?.(s, c, false, this.ctx), c);
      } catch (e) {
        this.failed(phaseError(e, phase));
        return;
      }
    }
    if (this.modBody !== undefined && c !== null && c !== undefined) {
      try {
        c = applyFilter(this.modBody.responseBodyFilter(c, false), c);
      } catch (e) {
        this.failed(phaseError(e, 'downstream modules responseBodyFilter'));
        return;
      }
    }
    if (c === null || c === undefined) return;
    if (this.encoder !== undefined) {
      this.encoder.write(c);
      return;
    }
    if (this.bodyRemaining > 0) {
      this.bodyRemaining -= c.length;
      if (this.bodyRemaining === 0) {
        this.finalChunk = c;
        return;
      }
    }
    if (!s.downstream.writeResponseBody(c, false)) {
      this.pauseFeed();
      s.downstream.onResponseDrain(this.onDownstreamDrain);
    }
  }

  private readonly onDownstreamDrain = (): void => {
    if (this.settled) return;
    if (this.encoder !== undefined) this.encoder.resumeOutput();
    else this.resumeFeed();
  };

  // What feeds forwardBody: the upstream decompressor when there is one, else the upstream (never
  // once released: the pool may have handed the connection to another request).
  private pauseFeed(): void {
    if (this.decoder !== undefined) this.decoder.pauseOutput();
    else if (!this.released) this.conn.pauseResponse();
  }

  private resumeFeed(): void {
    if (this.decoder !== undefined) this.decoder.resumeOutput();
    else if (!this.released) this.conn.resumeResponse();
  }

  // --- body streams (StageOwner) ---

  stageData(stage: BodyStreamStage, chunk: Buffer): void {
    if (this.settled) return;
    if (stage === this.decoder) {
      this.forwardBody(chunk);
      return;
    }
    const d = this.session.downstream;
    if (!d.writeResponseBody(chunk, false)) {
      stage.pauseOutput();
      d.onResponseDrain(this.onDownstreamDrain);
    }
  }

  stageEnd(stage: BodyStreamStage, last: Buffer | undefined): void {
    if (this.settled) return;
    if (stage === this.decoder) {
      if (last !== undefined) this.forwardBody(last);
      if (!this.settled) this.finishResponse();
      return;
    }
    this.encoder = undefined;
    // Held like a Content-Length body's last chunk: written with the end of the response.
    this.finalChunk = last;
    this.writeEnd(undefined, this.encoderTrailers, undefined);
  }

  stageError(_stage: BodyStreamStage, error: PingoraError): void {
    this.failed(error);
  }

  pauseInput(stage: BodyStreamStage): void {
    if (stage !== this.decoder) this.pauseFeed();
    else if (!this.released) this.conn.pauseResponse();
  }

  resumeInput(stage: BodyStreamStage): void {
    if (this.settled) return;
    if (stage !== this.decoder) this.resumeFeed();
    else if (!this.released) this.conn.resumeResponse();
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

  private finishResponse(): void {
    const s = this.session;
    // The upstream's part ends here, before the downstream end is written.
    s.upstreamTotal = performance.now() - s.upstreamStart;
    const p = this.phases;
    let last: Buffer | null | undefined;
    if (p.hasResponseBodyFilter && !this.headRequest) {
      let phase = 'upstreamResponseBodyFilter';
      try {
        last = applyFilter(p.upstreamResponseBodyFilter?.(s, undefined, true, this.ctx), undefined);
        phase = 'responseBodyFilter';
        last = applyFilter(p.responseBodyFilter?.(s, last ?? undefined, true, this.ctx), last ?? undefined);
      } catch (e) {
        this.failed(phaseError(e, phase));
        return;
      }
    }
    if (this.modBody !== undefined) {
      try {
        last = applyFilter(this.modBody.responseBodyFilter(last ?? undefined, true), last ?? undefined);
      } catch (e) {
        this.failed(phaseError(e, 'downstream modules responseBodyFilter'));
        return;
      }
    }
    // The upstream is done with: back to the pool before the client has read everything.
    this.releaseUpstream();
    const trailers = this.trailers;
    if (trailers !== undefined && p.responseTrailerFilter !== null) {
      let r: unknown;
      try {
        r = p.responseTrailerFilter(s, trailers, this.ctx);
      } catch (e) {
        this.settle(phaseError(e, 'responseTrailerFilter'));
        return;
      }
      if (r instanceof Promise) {
        r.then(
          (b) => this.endDownstream(last, trailers, b as Buffer | undefined),
          (e) => this.settle(phaseError(e, 'responseTrailerFilter')),
        );
        return;
      }
      this.endDownstream(last, trailers, r as Buffer | undefined);
      return;
    }
    this.endDownstream(last, trailers, undefined);
  }

  // The modules' trailer filters, then the end: through the module stream when there is one
  // (trailers follow once it has flushed), else straight to the client.
  private endDownstream(
    last: Buffer | null | undefined,
    trailers: string[] | undefined,
    asBody: Buffer | undefined,
  ): void {
    if (this.settled) return;
    const mods = this.session.downstreamModules;
    if (mods !== undefined && trailers !== undefined && asBody === undefined) {
      try {
        mods.responseTrailerFilter(trailers);
      } catch (e) {
        this.settle(phaseError(e, 'downstream modules responseTrailerFilter'));
        return;
      }
    }
    const enc = this.encoder;
    if (enc === undefined) {
      this.writeEnd(last, trailers, asBody);
      return;
    }
    this.encoderTrailers = asBody === undefined ? trailers : undefined;
    if (last) enc.write(last);
    if (asBody !== undefined) enc.write(asBody);
    enc.end();
  }

  private writeEnd(
    last: Buffer | null | undefined,
    trailers: string[] | undefined,
    asBody: Buffer | undefined,
  ): void {
    const d = this.session.downstream;
    const held = this.finalChunk;
    if (held !== undefined) {
      this.finalChunk = undefined;
      const more = !!last || asBody !== undefined || (trailers !== undefined && trailers.length > 0);
      d.writeResponseBody(held, !more);
      if (!more) {
        this.settle(undefined);
        return;
      }
    }
    if (last) d.writeResponseBody(last, false);
    if (asBody !== undefined) d.writeResponseBody(asBody, true);
    else if (trailers !== undefined && trailers.length > 0) d.writeResponseTrailers(trailers);
    else d.writeResponseBody(undefined, true);
    this.settle(undefined);
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

  // --- endings ---

  // `reason` is set when the session cut the client itself (a downstream write timeout).
  private readonly onClientGone = (reason: PingoraError | undefined): void => {
    if (this.settled) return;
    this.abortAttempt(
      reason ?? PingoraError.explain(ErrorType.ConnectionClosed, 'client closed the connection').asDown(),
    );
  };

  /** @internal The attempt is over. */
  get isSettled(): boolean {
    return this.settled;
  }

  /** @internal The client side failed: drop the upstream connection (it may be mid-request). */
  abortAttempt(error: PingoraError): void {
    if (this.settled) return;
    if (!this.released) this.conn.destroy();
    this.settle(error.setRetry(false));
  }

  /** The upstream side failed. */
  private failed(error: PingoraError): void {
    if (this.settled) return;
    if (!this.released) this.conn.destroy();
    let e = error;
    const p = this.phases;
    if (p.errorWhileProxy !== null) e = p.errorWhileProxy(this.peer, this.session, e, this.ctx, this.reused);
    else e = defaultErrorWhileProxy(this.peer, this.session, e, this.reused);
    // Once the client has a response head, nothing can be retried or re-answered (the proxy's
    // error path aborts the downstream response and logs why).
    if (this.headerWritten) e.setRetry(false);
    this.settle(e);
  }

  private settle(error: PingoraError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    if (error !== undefined) {
      // Streams of a failed response are freed now (no zlib handle waits for the client).
      this.decoder?.destroy();
      this.encoder?.destroy();
    }
    const s = this.session;
    if (s.upstreamTotal < 0) s.upstreamTotal = performance.now() - s.upstreamStart;
    this.session.bodyIfUsed?.detach();
    this.done(error);
  }
}

function applyFilter(out: unknown, input: Buffer | undefined): Buffer | null | undefined {
  return out === undefined ? input : (out as Buffer | null);
}
