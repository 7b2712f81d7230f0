/**
 * One attempt at the upstream: send the request, stream the body both ways with backpressure, run
 * the response phases, and settle with `undefined` (done) or the error for the retry loop. It is
 * one object per attempt with bound handlers, so streaming without body filters allocates nothing
 * per chunk.
 */
import type {
  HttpPeer,
  ParsedResponseHead,
  UpstreamResponseHandler,
  UpstreamSession,
} from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { type Phases, phaseError } from './phases.js';
import type { BodyTarget } from './request-body.js';
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
export class Exchange<Ctx> implements UpstreamResponseHandler, BodyTarget {
  private settled = false;
  private headerWritten = false;
  // Body events held back while an async response-header phase runs.
  private queue: Array<Buffer | typeof END> | undefined;
  private trailers: string[] | undefined;
  private bodyChain: Promise<void> | undefined;
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
    if (bodyMode !== 'none') this.session.body.attach(this);
  }

  // --- request body (BodyTarget) ---

  onBodyChunk(chunk: Buffer): void {
    if (this.settled) return;
    const filter = this.phases.requestBodyFilter;
    if (filter === null && this.bodyChain === undefined) {
      this.sendBody(chunk);
      return;
    }
    this.filterBody(chunk, false);
  }

  onBodyEnd(rawTrailers: string[] | undefined): void {
    if (this.settled) return;
    if (this.phases.requestBodyFilter === null && this.bodyChain === undefined) {
      this.conn.finishBody(rawTrailers);
      return;
    }
    this.filterBody(undefined, true, rawTrailers);
  }

  onBodyError(error: PingoraError): void {
    this.abort(error);
  }

  // Filters may be async: chunks are chained so they reach the upstream in order.
  private filterBody(chunk: Buffer | undefined, end: boolean, trailers?: string[]): void {
    const run = (): void | Promise<void> => {
      if (this.settled) return;
      let r: unknown;
      try {
        r = this.phases.requestBodyFilter!(this.session, chunk, end, this.ctx);
      } catch (e) {
        this.abort(phaseError(e, 'requestBodyFilter'));
        return;
      }
      const apply = (out: unknown) => {
        if (this.settled) return;
        const c = out === undefined ? chunk : (out as Buffer | null);
        if (c !== null && c !== undefined) this.sendBody(c);
        if (end) this.conn.finishBody(trailers);
      };
      if (r instanceof Promise) {
        this.session.body.pause();
        return r.then(
          (out) => {
            apply(out);
            this.session.body.resume();
          },
          (e) => this.abort(phaseError(e, 'requestBodyFilter')),
        );
      }
      apply(r);
    };
    if (this.bodyChain !== undefined) {
      this.bodyChain = this.bodyChain.then(run);
      return;
    }
    const r = run();
    if (r instanceof Promise) this.bodyChain = r;
  }

  private sendBody(chunk: Buffer): void {
    if (!this.conn.writeBody(chunk)) {
      this.session.body.pause();
      this.conn.onDrain(this.onUpstreamDrain);
    }
  }

  private readonly onUpstreamDrain = (): void => {
    if (!this.settled) this.session.body.resume();
  };

  // --- response (UpstreamResponseHandler) ---

  onResponseHeader(head: ParsedResponseHead): void {
    const t = this.conn.timing;
    if (t.firstByte !== 0) this.session.upstreamFirstByte = t.firstByte - t.requestSent;
    const resp =
      this.conn.httpVersion === 2
        ? ResponseHeader.fromRawNoCase(head.status, head.rawHeaders, '2')
        : ResponseHeader.fromRaw(
            head.status,
            head.rawHeaders,
            head.reason,
            head.minorVersion === 0 ? '1.0' : '1.1',
          );
    resp.stripHopByHop(head.upgrade ? { keepUpgrade: true } : undefined);
    const noBody = head.framing === 'none' || this.headRequest;
    // A body filter may change the length, so the downstream framing is left to node (chunked).
    if (!noBody && this.phases.hasResponseBodyFilter) resp.removeHeader('Content-Length');
    // Only the HTTP/1.1 parser reports the end in the same call as the chunk that completes the
    // length. An HTTP/2 stream ends in a later event, or never (an origin that forgets END_STREAM):
    // holding its last chunk for the end would keep the whole body from the client until a timeout.
    else if (!noBody && head.framing === 'length' && this.conn.httpVersion === 1)
      this.bodyRemaining = head.contentLength;
    const p = this.phases;
    if (p.upstreamResponseFilter === null && p.responseFilter === null) {
      this.writeHeader(resp, noBody && !head.upgrade);
      return;
    }
    const r = this.runHeaderFilters(resp);
    if (r === undefined) {
      this.writeHeader(resp, noBody && !head.upgrade);
      return;
    }
    this.queue = [];
    this.conn.pauseResponse();
    r.then(
      () => {
        if (this.settled) return;
        this.writeHeader(resp, noBody && !head.upgrade);
        const q = this.queue!;
        this.queue = undefined;
        for (const item of q) {
          if (item === END) this.finishResponse();
          else this.forwardBody(item);
        }
        this.conn.resumeResponse();
      },
      (e: unknown) => this.failed(phaseError(e, 'responseFilter')),
    );
  }

  // Runs upstreamResponseFilter then responseFilter; returns a promise only if one of them did.
  // A failure rejects already tagged with the phase that failed.
  private runHeaderFilters(resp: ResponseHeader): Promise<void> | undefined {
    const up = this.phases.upstreamResponseFilter;
    if (up === null) return this.runResponseFilter(resp);
    let r: unknown;
    try {
      r = up(this.session, resp, this.ctx);
    } catch (e) {
      return Promise.reject(phaseError(e, 'upstreamResponseFilter'));
    }
    if (!(r instanceof Promise)) return this.runResponseFilter(resp);
    return r.then(
      () => this.runResponseFilter(resp),
      (e: unknown) => {
        throw phaseError(e, 'upstreamResponseFilter');
      },
    );
  }

  private runResponseFilter(resp: ResponseHeader): Promise<void> | undefined {
    const down = this.phases.responseFilter;
    if (down === null) return undefined;
    let r: unknown;
    try {
      r = down(this.session, resp, this.ctx);
    } catch (e) {
      return Promise.reject(phaseError(e, 'responseFilter'));
    }
    if (!(r instanceof Promise)) return undefined;
    return r.then(undefined, (e: unknown) => {
      throw phaseError(e, 'responseFilter');
    });
  }

  private writeHeader(resp: ResponseHeader, endOfStream: boolean): void {
    this.headerWritten = true;
    this.session.downstream.writeResponseHeader(resp, endOfStream);
  }

  onResponseBody(chunk: Buffer): void {
    if (this.settled) return;
    if (this.queue !== undefined) this.queue.push(chunk);
    else this.forwardBody(chunk);
  }

  private forwardBody(chunk: Buffer | undefined): void {
    const s = this.session;
    if (chunk !== undefined) s.upstreamBodyBytesReceived += chunk.length;
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
    if (c === null || c === undefined) return;
    if (this.bodyRemaining > 0) {
      this.bodyRemaining -= c.length;
      if (this.bodyRemaining === 0) {
        this.finalChunk = c;
        return;
      }
    }
    if (!s.downstream.writeResponseBody(c, false)) {
      this.conn.pauseResponse();
      s.downstream.onResponseDrain(this.onDownstreamDrain);
    }
  }

  private readonly onDownstreamDrain = (): void => {
    if (!this.settled) this.conn.resumeResponse();
  };

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
    else this.finishResponse();
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
    // The upstream is done with: back to the pool before the client has read everything.
    this.owner.releaseHttpSession(this.conn, this.peer);
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

  private endDownstream(
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

  private readonly onClientGone = (): void => {
    if (this.settled) return;
    this.abort(PingoraError.explain(ErrorType.ConnectionClosed, 'client closed the connection').asDown());
  };

  /** The client side failed: drop the upstream connection (it may be mid-request). */
  private abort(error: PingoraError): void {
    if (this.settled) return;
    this.conn.destroy();
    this.settle(error.setRetry(false));
  }

  /** The upstream side failed. */
  private failed(error: PingoraError): void {
    if (this.settled) return;
    this.conn.destroy();
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
    const s = this.session;
    if (s.upstreamTotal < 0) s.upstreamTotal = performance.now() - s.upstreamStart;
    this.session.bodyIfUsed?.detach();
    this.done(error);
  }
}

/** Pingora's default `error_while_proxy`. */
export function defaultErrorWhileProxy(
  peer: HttpPeer,
  session: Session,
  error: PingoraError,
  clientReused: boolean,
): PingoraError {
  const e = error.moreContext(`Peer: ${peer}`);
  if (e.retryType === 'ReusedOnly') e.setRetry(clientReused && !session.body.truncated);
  return e;
}

function applyFilter(out: unknown, input: Buffer | undefined): Buffer | null | undefined {
  return out === undefined ? input : (out as Buffer | null);
}
