/**
 * The cache on the response path of an upstream attempt: a {@link ProxyResponseHandler} in front of
 * the response writer. It stores the upstream response when it may (see ./miss-store.ts), tees the
 * body into the storage in order while passing it on, and answers the client's conditional or
 * Range request when the upstream request was changed for the cache. A client too slow for the
 * upstream is moved onto the cache's copy of the body, so the fill (and every client streaming
 * it) goes at the upstream's pace. When the upstream confirms a stale asset (304), or fails with a
 * 5xx while stale-if-error allows, the cached asset is served instead, through a writer of its own.
 */
import {
  type HttpCache,
  NoCacheReason,
  RangeBodyFilter,
  type RangeType,
  toNotModified,
} from '@pingora-ts/cache';
import type { UpstreamResponseFacts } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { ProxyResponseHandler, ResponseController } from '../response-handler.js';
import type { Session } from '../session.js';
import { notModified, rangeOf, serveStale } from './defaults.js';
import { CacheHitSource } from './hit-source.js';
import { contentLengthOf, revalidate, startStoring } from './miss-store.js';
import type { ProxyCache } from './proxy-cache.js';

const HEADER_ONLY: UpstreamResponseFacts = Object.freeze({ body: 'none', contentLength: -1, upgrade: false });
const UPGRADE_NOT_CACHED = NoCacheReason.Custom('upgrade');
const NOT_MODIFIED_ON_MISS = NoCacheReason.Custom('304 on miss');
const EMPTY = Buffer.alloc(0);

interface HeldStart {
  resp: ResponseHeader;
  facts: UpstreamResponseFacts;
  lastChunkEnds: boolean;
}

/** @internal */
export class CacheMissTee<Ctx> implements ProxyResponseHandler, ResponseController {
  private up!: ResponseController;
  private readonly cache: HttpCache;
  // Storage writes run one after another, behind the response: the client never waits on them.
  private chain: Promise<unknown> | undefined = undefined;
  private storing = false;
  private tooLarge = false;
  private countUpTo: number | undefined = undefined;
  private bodyBytes = 0;
  private rangeBody: RangeBodyFilter | undefined = undefined;
  // A body of unknown length under a max file size: the head waits for the first chunk.
  private held: HeldStart | undefined = undefined;
  // The upstream answer is dropped and the cached asset served instead (304 or stale-if-error).
  private replaced: Promise<void> | undefined = undefined;
  private finished = false;
  // Set when the client left during a fill: the body goes to the cache only.
  private clientGone: PingoraError | undefined = undefined;
  private endWithoutClient: ((error: PingoraError) => void) | undefined = undefined;
  // Bytes of the body handed to the writer; a slow client continues from there off the cache.
  private forwarded = 0;
  private detaching = false;
  private resumeWhenDetached = false;
  private detached: CacheHitSource | undefined = undefined;

  constructor(
    private readonly owner: ProxyCache<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
    private readonly writer: ProxyResponseHandler,
    private readonly headRequest: boolean,
    /** The upstream request was changed for the cache (its Range and conditionals removed). */
    private readonly upstreamModified: boolean,
  ) {
    this.cache = session.cache;
  }

  onResponseStart(
    c: ResponseController,
    resp: ResponseHeader,
    facts: UpstreamResponseFacts,
    lastChunkEnds: boolean,
  ): void {
    this.up = c;
    const cache = this.cache;
    if (facts.upgrade) {
      // What follows a 101 is a tunnel, not a body: never stored.
      cache.disable(UPGRADE_NOT_CACHED);
      this.writer.onResponseStart(this, resp, facts, lastChunkEnds);
      return;
    }
    if (cache.phase === 'Stale') {
      if (resp.status === 304) {
        this.replaced = revalidate(this.owner, this.session, this.ctx, cache, resp);
        return;
      }
      if (resp.status >= 500 && this.staleInsteadOf(resp.status)) {
        cache.releaseWriteLock('UpstreamError');
        this.replaced = Promise.resolve();
        return;
      }
    } else if (resp.status === 304 && cache.enabled()) {
      cache.responseBecameUncacheable(NOT_MODIFIED_ON_MISS);
    }
    if (cache.enabled() || cache.bypassing()) {
      const d = startStoring(this.owner, this.session, this.ctx, cache, resp);
      this.tooLarge = d.tooLarge;
      this.countUpTo = d.countUpTo;
      if (d.opened !== undefined) {
        this.storing = true;
        this.chain = d.opened.then((ok) => {
          if (!ok) this.storing = false;
        });
      }
    }
    if (
      this.storing &&
      cache.maxFileSizeBytes() !== undefined &&
      facts.body !== 'none' &&
      contentLengthOf(resp) === undefined
    ) {
      // Whether it fits is known at the first chunk; a head sent now would say `miss` too early.
      this.held = { resp, facts, lastChunkEnds };
      return;
    }
    this.startDownstream(resp, facts, lastChunkEnds);
  }

  // Whether a 5xx from the origin is replaced by the stale asset (stale-if-error).
  private staleInsteadOf(status: number): boolean {
    if (!this.cache.canServeStaleError() || this.session.responseWritten() !== undefined) return false;
    const e = PingoraError.create(ErrorType.HTTPStatus(status), 'Upstream');
    return serveStale(this.owner.phases, this.session, this.ctx, e);
  }

  // The head goes to the writer; a 200 answers the client's conditional and Range request as a
  // hit would, since the origin never saw them.
  private startDownstream(resp: ResponseHeader, facts: UpstreamResponseFacts, lastChunkEnds: boolean): void {
    if (!this.upstreamModified || this.tooLarge || resp.status !== 200) {
      this.writer.onResponseStart(this, resp, facts, lastChunkEnds);
      return;
    }
    const p = this.owner.phases;
    let nm = false;
    let range: RangeType | undefined;
    try {
      nm = notModified(p, this.session, resp, this.ctx);
      if (nm) toNotModified(resp);
      else range = rangeOf(p, this.session, resp, this.ctx);
    } catch (e) {
      this.owner.warn(this.session, this.ctx, 'a cache response filter failed on a miss', e);
    }
    if (nm || range?.kind === 'Invalid') {
      this.writer.onResponseStart(this, resp, HEADER_ONLY, false);
      return;
    }
    if (range !== undefined && range.kind !== 'None') {
      if (!this.headRequest) this.rangeBody = new RangeBodyFilter(range);
      const length = Number(resp.headers.get('content-length'));
      this.writer.onResponseStart(
        this,
        resp,
        { body: 'length', contentLength: length, upgrade: false },
        false,
      );
      return;
    }
    this.writer.onResponseStart(this, resp, facts, lastChunkEnds);
  }

  private releaseHeld(): void {
    const h = this.held;
    if (h === undefined) return;
    this.held = undefined;
    this.startDownstream(h.resp, h.facts, h.lastChunkEnds);
  }

  // Body bytes against the max file size (a stored body) or the limit a bypassed body must fit.
  private count(n: number): void {
    this.bodyBytes += n;
    if (this.storing) {
      const max = this.cache.maxFileSizeBytes();
      if (max !== undefined && this.bodyBytes > max) {
        this.cache.responseBecameUncacheable('ResponseTooLarge');
        this.storing = false;
        this.tooLarge = true;
      }
    }
    if (this.countUpTo !== undefined && this.bodyBytes > this.countUpTo) this.countUpTo = undefined;
  }

  private write(chunk: Buffer | undefined, eof: boolean): void {
    const cache = this.cache;
    const step = (): Promise<unknown> | undefined => {
      if (!this.storing) return undefined;
      if (!eof) return cache.writeBody(chunk!, false);
      return cache.writeBody(EMPTY, true).then((ok) => (ok ? cache.finishMissHandler() : undefined));
    };
    this.chain = this.chain!.then(step).catch((e: unknown) => {
      this.storing = false;
      this.owner.warn(this.session, this.ctx, 'writing to the cache failed', e);
    });
  }

  onResponseData(_c: ResponseController, chunk: Buffer): void {
    if (this.replaced !== undefined) return;
    if (this.storing || this.countUpTo !== undefined) this.count(chunk.length);
    if (this.storing) this.write(chunk, false);
    if (this.held !== undefined) this.releaseHeld();
    // A client that left, or that now reads the cache's copy, gets nothing from here.
    if (this.clientGone !== undefined || this.detaching || this.detached !== undefined) return;
    this.forwarded += chunk.length;
    const out = this.rangeBody === undefined ? chunk : this.rangeBody.filter(chunk, false);
    if (out !== undefined) this.writer.onResponseData(this, out);
  }

  onResponseTrailers(_c: ResponseController, trailers: string[]): void {
    if (this.replaced !== undefined || this.clientGone !== undefined) return;
    if (this.detaching || this.detached !== undefined) return;
    this.writer.onResponseTrailers(this, trailers);
  }

  onResponseEnd(_c: ResponseController): void {
    const replaced = this.replaced;
    if (replaced !== undefined) {
      replaced
        .then(() => this.owner.serveHit(this.session, this.ctx, this.cache))
        .then(
          (r) => (r === 'served' ? this.up.complete() : this.up.abort(r)),
          (e: unknown) =>
            this.up.abort(
              PingoraError.because(ErrorType.InternalError, 'serving the cached asset failed', e).asIn(),
            ),
        );
      return;
    }
    // A bypassed body that fit the max file size: the next request may store it.
    if (this.countUpTo !== undefined) this.cache.responseBecameCacheable();
    if (this.held !== undefined) this.releaseHeld();
    if (this.storing) this.write(undefined, true);
    const gone = this.clientGone;
    if (gone !== undefined) {
      void (this.chain ?? Promise.resolve()).then(() => this.endWithoutClient!(gone));
      return;
    }
    // A client reading the cache's copy ends when that copy is complete.
    if (this.detaching || this.detached !== undefined) return;
    this.writer.onResponseEnd(this);
  }

  onResponseError(error: PingoraError): void {
    const cache = this.cache;
    if (cache.enabled() && (cache.missHandlerActive() || cache.isCacheLockWriter())) {
      cache.disable('UpstreamError');
    }
    this.storing = false;
    this.detached?.abort(error);
    this.writer.onResponseError(error);
  }

  /**
   * The client left while the asset is being stored: stop writing to it and keep reading the
   * upstream into the cache; `end(error)` ends the attempt once the asset is complete. False when
   * nothing is being stored (the attempt ends now).
   */
  continueWithoutClient(error: PingoraError, end: (error: PingoraError) => void): boolean {
    if (!this.storing || this.replaced !== undefined || this.clientGone !== undefined) return false;
    this.clientGone = error;
    this.endWithoutClient = end;
    this.detached?.abort(error);
    this.writer.onResponseError(error);
    this.up.resume();
    return true;
  }

  // --- the writer steers the upstream through the tee ---

  pause(): void {
    if (this.detached !== undefined) this.detached.pause();
    else if (this.detaching) this.resumeWhenDetached = false;
    else if (this.canDetach()) this.detach();
    else this.up.pause();
  }

  resume(): void {
    if (this.detached !== undefined) this.detached.resume();
    else if (this.detaching) this.resumeWhenDetached = true;
    else this.up.resume();
  }

  abort(error: PingoraError): void {
    if (this.cache.enabled()) this.cache.disable('InternalError');
    this.detached?.abort(error);
    this.up.abort(error);
  }

  // The response is out; the attempt ends once the storage has the whole asset too, so the next
  // request for it is a hit.
  complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.detached?.complete();
    const chain = this.chain;
    if (chain === undefined) this.up.complete();
    else void chain.then(() => this.up.complete());
  }

  // A slow client may move onto the cache's copy when that copy is sure to be complete: the write
  // is open, the storage reads writes in progress, and the body cannot outgrow the max file size.
  private canDetach(): boolean {
    const cache = this.cache;
    if (!this.storing || this.held !== undefined || !cache.missHandlerActive()) return false;
    if (cache.supportStreamingPartialWrite() !== true) return false;
    const max = cache.maxFileSizeBytes();
    if (max === undefined) return true;
    const length = contentLengthOf(cache.cacheMeta().header);
    return length !== undefined && length <= max;
  }

  // From now on the upstream only fills the cache, unpaused; the client reads the cache's copy
  // from where it is, at its own pace.
  private detach(): void {
    this.detaching = true;
    const offset = this.forwarded;
    this.cache.missBodyReader().then(
      (hit) => {
        this.detaching = false;
        if (hit === undefined) {
          this.up.abort(PingoraError.explain(ErrorType.InternalError, 'the cache write ended early').asIn());
          return;
        }
        hit.seek(offset);
        const source = new CacheHitSource(this.session, hit, this.writer, this.rangeBody);
        this.detached = source;
        if (!this.resumeWhenDetached) source.pause();
        void source.streamBody().then((e) => {
          if (e !== undefined) this.up.abort(e);
        });
      },
      (e: unknown) => {
        this.detaching = false;
        this.up.abort(
          PingoraError.because(ErrorType.InternalError, 'reading the cache write failed', e).asIn(),
        );
      },
    );
  }
}

/**
 * @internal Whether a bodiless request whose upstream request was made for the cache is worth
 * finishing after its client left before the response head: the fill is for everyone.
 */
export function fillsCache<Ctx>(session: Session, proxyCache: ProxyCache<Ctx> | undefined): boolean {
  const c = session.cacheIfUsed;
  return proxyCache !== undefined && c !== undefined && c.enabled() && !session.downstream.hasRequestBody;
}
