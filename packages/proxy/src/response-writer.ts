/**
 * The downstream half of a proxied response: `responseFilter` and the modules' header filters, the
 * response body and trailer filters, the modules' body stream, HEAD and no-body rules, the final
 * chunk held back to go out with the end, trailers and the client's backpressure. It does not know
 * where the response comes from: an upstream attempt and a cache hit drive it the same way,
 * through the {@link ProxyResponseHandler} interface.
 */
import type { HttpModuleCtx, UpstreamResponseFacts } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import { BodyStreamStage, type StageOwner } from './body-stream.js';
import { type Phases, phaseError } from './phases.js';
import type { ProxyResponseHandler, ResponseController } from './response-handler.js';
import { DOWNSTREAM_HEADER_STEPS, runResponseHeaderFilters } from './response-header-filters.js';
import type { Session } from './session.js';

const END = Symbol('end');

/** @internal */
export class ResponseWriter<Ctx> implements ProxyResponseHandler, StageOwner {
  private controller!: ResponseController;
  private done = false;
  private noBody = false;
  // Modules and streams on the body path (see ./body-stream.ts); unset for a plain response.
  private modBody: HttpModuleCtx | undefined = undefined;
  private encoder: BodyStreamStage | undefined = undefined;
  private encoderTrailers: string[] | undefined = undefined;
  // Body events held back while an async header phase runs.
  private queue: Array<Buffer | typeof END> | undefined;
  private trailers: string[] | undefined;
  // Bytes still expected of a Content-Length body (-1 when not tracked). The chunk that completes
  // it is held and written together with the end: node then sends head, body and end in one write.
  private bodyRemaining = -1;
  private finalChunk: Buffer | undefined;

  constructor(
    private readonly phases: Phases<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
    /** The client asked with HEAD: the head goes out, the body (if the source sends one) does not. */
    private readonly headRequest: boolean,
  ) {}

  onResponseStart(
    c: ResponseController,
    resp: ResponseHeader,
    facts: UpstreamResponseFacts,
    lastChunkEnds: boolean,
  ): void {
    this.controller = c;
    const noBody = facts.body === 'none' || this.headRequest;
    this.noBody = noBody;
    // A body filter may change the length, so the downstream framing is left to node (chunked).
    if (!noBody && this.phases.responseBodyFilter !== null) resp.removeHeader('Content-Length');
    else if (!noBody && facts.body === 'length' && lastChunkEnds) this.bodyRemaining = facts.contentLength;
    const s = this.session;
    if (this.phases.responseFilter === null && s.downstreamModules === undefined) {
      this.writeHeader(resp, noBody && !facts.upgrade);
      return;
    }
    const r = runResponseHeaderFilters(this.phases, s, this.ctx, resp, noBody, DOWNSTREAM_HEADER_STEPS);
    if (r === undefined) {
      this.headerReady(resp, facts.upgrade);
      return;
    }
    this.queue = [];
    c.pause();
    r.then(
      () => {
        if (this.done) return;
        this.headerReady(resp, facts.upgrade);
        if (this.done) return;
        const q = this.queue!;
        this.queue = undefined;
        for (const item of q) {
          if (item === END) this.finish();
          else this.forwardBody(item);
        }
        c.resume();
      },
      (e: unknown) => this.fail(phaseError(e, 'responseFilter')),
    );
  }

  // The header filters ran: set up the body path (module stream and body filters), then write.
  private headerReady(resp: ResponseHeader, upgrade: boolean): void {
    if (!this.noBody && !upgrade) {
      try {
        this.setUpBodyPath(resp);
      } catch (e) {
        this.fail(phaseError(e, 'responseBodyStream'));
        return;
      }
    }
    this.writeHeader(resp, this.noBody && !upgrade);
  }

  // A module stream or body filter may change the body, so its length goes (node chunks it).
  private setUpBodyPath(resp: ResponseHeader): void {
    const mods = this.session.downstreamModules;
    const enc = mods?.responseBodyStream();
    if (mods?.hasResponseBodyFilter) this.modBody = mods;
    if (enc === undefined && this.modBody === undefined) return;
    resp.removeHeader('Content-Length');
    this.bodyRemaining = -1;
    if (enc !== undefined) this.encoder = new BodyStreamStage(enc, this, 'downstream modules', false);
  }

  private writeHeader(resp: ResponseHeader, endOfStream: boolean): void {
    this.session.downstream.writeResponseHeader(resp, endOfStream);
  }

  onResponseData(_c: ResponseController, chunk: Buffer): void {
    if (this.done) return;
    if (this.queue !== undefined) this.queue.push(chunk);
    else this.forwardBody(chunk);
  }

  // The user's body filter, the modules' body filters, then the module stream or the client.
  private forwardBody(chunk: Buffer): void {
    // A HEAD the cache turned into a GET upstream: the body is the cache's, not the client's.
    if (this.noBody) return;
    const s = this.session;
    let c: Buffer | null | undefined = chunk;
    const f = this.phases.responseBodyFilter;
    if (f !== null) {
      try {
        c = applyFilter(f(s, c, false, this.ctx), c);
      } catch (e) {
        this.fail(phaseError(e, 'responseBodyFilter'));
        return;
      }
    }
    if (this.modBody !== undefined && c !== null && c !== undefined) {
      try {
        c = applyFilter(this.modBody.responseBodyFilter(c, false), c);
      } catch (e) {
        this.fail(phaseError(e, 'downstream modules responseBodyFilter'));
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
      this.controller.pause();
      s.downstream.onResponseDrain(this.onDownstreamDrain);
    }
  }

  private readonly onDownstreamDrain = (): void => {
    if (this.done) return;
    if (this.encoder !== undefined) this.encoder.resumeOutput();
    else this.controller.resume();
  };

  onResponseTrailers(_c: ResponseController, trailers: string[]): void {
    this.trailers = trailers;
  }

  onResponseEnd(_c: ResponseController): void {
    if (this.done) return;
    if (this.queue !== undefined) this.queue.push(END);
    else this.finish();
  }

  onResponseError(_error: PingoraError): void {
    if (this.done) return;
    this.done = true;
    // Streams of a failed response are freed now (no zlib handle waits for the client).
    this.encoder?.destroy();
  }

  // The end-of-body calls of the body filters, the trailer filters, then the end itself.
  private finish(): void {
    const s = this.session;
    let last: Buffer | null | undefined;
    const f = this.phases.responseBodyFilter;
    if (f !== null && !this.headRequest) {
      try {
        last = applyFilter(f(s, undefined, true, this.ctx), undefined);
      } catch (e) {
        this.fail(phaseError(e, 'responseBodyFilter'));
        return;
      }
    }
    if (this.modBody !== undefined) {
      try {
        last = applyFilter(this.modBody.responseBodyFilter(last ?? undefined, true), last ?? undefined);
      } catch (e) {
        this.fail(phaseError(e, 'downstream modules responseBodyFilter'));
        return;
      }
    }
    const trailers = this.trailers;
    const tf = this.phases.responseTrailerFilter;
    if (trailers !== undefined && tf !== null) {
      let r: unknown;
      try {
        r = tf(s, trailers, this.ctx);
      } catch (e) {
        this.fail(phaseError(e, 'responseTrailerFilter'));
        return;
      }
      if (r instanceof Promise) {
        r.then(
          (b) => this.endDownstream(last, trailers, b as Buffer | undefined),
          (e) => this.fail(phaseError(e, 'responseTrailerFilter')),
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
    if (this.done) return;
    const mods = this.session.downstreamModules;
    if (mods !== undefined && trailers !== undefined && asBody === undefined) {
      try {
        mods.responseTrailerFilter(trailers);
      } catch (e) {
        this.fail(phaseError(e, 'downstream modules responseTrailerFilter'));
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
        this.complete();
        return;
      }
    }
    if (last) d.writeResponseBody(last, false);
    if (asBody !== undefined) d.writeResponseBody(asBody, true);
    else if (trailers !== undefined && trailers.length > 0) d.writeResponseTrailers(trailers);
    else d.writeResponseBody(undefined, true);
    this.complete();
  }

  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.controller.complete();
  }

  private fail(error: PingoraError): void {
    if (this.done) return;
    this.done = true;
    this.encoder?.destroy();
    this.controller.abort(error);
  }

  // --- the module stream (StageOwner) ---

  stageData(stage: BodyStreamStage, chunk: Buffer): void {
    if (this.done) return;
    const d = this.session.downstream;
    if (!d.writeResponseBody(chunk, false)) {
      stage.pauseOutput();
      d.onResponseDrain(this.onDownstreamDrain);
    }
  }

  stageEnd(_stage: BodyStreamStage, last: Buffer | undefined): void {
    if (this.done) return;
    this.encoder = undefined;
    // Held like a Content-Length body's last chunk: written with the end of the response.
    this.finalChunk = last;
    this.writeEnd(undefined, this.encoderTrailers, undefined);
  }

  stageError(_stage: BodyStreamStage, error: PingoraError): void {
    this.fail(error);
  }

  pauseInput(_stage: BodyStreamStage): void {
    this.controller.pause();
  }

  resumeInput(_stage: BodyStreamStage): void {
    if (!this.done) this.controller.resume();
  }
}

/** @internal A body filter's result: `undefined` keeps the input. */
export function applyFilter(out: unknown, input: Buffer | undefined): Buffer | null | undefined {
  return out === undefined ? input : (out as Buffer | null);
}
