/**
 * The cache on the response path of an upstream attempt: a {@link ProxyResponseHandler} in front of
 * the response writer. It decides whether the upstream response is stored
 * (`responseCacheFilter`, Vary, max file size), tees the body into the storage in order while
 * passing it on, and answers the client's conditional or Range request from the cacheable head.
 * When the upstream confirms a stale asset (304), or fails with a 5xx while stale-if-error
 * allows, the upstream response is dropped and the cached one is served through a fresh writer.
 */
import {
  type HttpCache,
  RangeBodyFilter,
  type RangeType,
  NoCacheReason,
  toNotModified,
  VARY_UNCACHEABLE,
} from '@pingora-ts/cache';
import type { UpstreamResponseFacts } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { ProxyResponseHandler, ResponseController } from '../response-handler.js';
import type { Session } from '../session.js';
import {
  notModified,
  rangeOf,
  responseCacheable,
  serveStale,
  VARY_NOT_CACHEABLE,
  varianceOf,
} from './defaults.js';
import type { ProxyCache } from './proxy-cache.js';

const HEADER_ONLY: UpstreamResponseFacts = Object.freeze({ body: 'none', contentLength: -1, upgrade: false });
const UPGRADE_NOT_CACHED = NoCacheReason.Custom('upgrade');
const NOT_MODIFIED_ON_MISS = NoCacheReason.Custom('304 on miss');

/** @internal */
export class CacheMissTee<Ctx> implements ProxyResponseHandler, ResponseController {
  private up!: ResponseController;
  private readonly cache: HttpCache;
  // Storage writes run one after another, behind the response: the client never waits on them.
  private chain: Promise<unknown> | undefined = undefined;
  private storing = false;
  private rangeBody: RangeBodyFilter | undefined = undefined;
  // The upstream answer is dropped and the cached asset served instead (304 or stale-if-error).
  private replaced: Promise<void> | undefined = undefined;
  private finished = false;
  // Set when the client left during a fill: the body goes to the cache only.
  private clientGone: PingoraError | undefined = undefined;
  private endWithoutClient: ((error: PingoraError) => void) | undefined = undefined;

  constructor(
    private readonly owner: ProxyCache<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
    private readonly writer: ProxyResponseHandler,
    private readonly headRequest: boolean,
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
      cache.disable(UPGRADE_NOT_CACHED);
      this.writer.onResponseStart(this, resp, facts, lastChunkEnds);
      return;
    }
    if (cache.phase === 'Stale') {
      if (resp.status === 304) {
        this.replaced = this.revalidated(resp);
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
    if (cache.enabled() || cache.bypassing()) this.store(resp);
    if (!this.storing || resp.status !== 200) {
      this.writer.onResponseStart(this, resp, facts, lastChunkEnds);
      return;
    }
    // A stored 200 answers the client's conditional and Range request as a hit would.
    const p = this.owner.phases;
    let nm = false;
    let range: RangeType | undefined;
    try {
      nm = notModified(p, this.session, resp, this.ctx);
      if (nm) toNotModified(resp);
      else if (!this.headRequest) range = rangeOf(p, this.session, resp, this.ctx);
    } catch (e) {
      this.owner.warn(this.session, this.ctx, 'a cache response filter failed on a miss', e);
    }
    if (nm || range?.kind === 'Invalid') {
      this.writer.onResponseStart(this, resp, HEADER_ONLY, false);
      return;
    }
    if (range !== undefined && range.kind !== 'None') {
      this.rangeBody = new RangeBodyFilter(range);
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

  // Whether a 5xx from the origin is replaced by the stale asset (stale-if-error).
  private staleInsteadOf(status: number): boolean {
    if (!this.cache.canServeStaleError() || this.session.responseWritten() !== undefined) return false;
    const e = PingoraError.create(ErrorType.HTTPStatus(status), 'Upstream');
    return serveStale(this.owner.phases, this.session, this.ctx, e);
  }

  // The origin confirmed the stale asset: refresh its meta from the merged head.
  private async revalidated(resp: ResponseHeader): Promise<void> {
    const cache = this.cache;
    const merged = cache.revalidateMergeHeader(resp);
    try {
      const r = responseCacheable(this.owner.phases, this.session, merged, this.ctx);
      if (r.kind === 'Cacheable') await cache.revalidateCacheMeta(r.meta);
      else cache.revalidateUncacheable(merged, r.reason);
    } catch (e) {
      this.owner.warn(this.session, this.ctx, 'revalidating the cached asset failed', e);
      if (cache.phase === 'Stale') cache.revalidateUncacheable(merged, 'InternalError');
    }
  }

  // responseCacheFilter, Vary and the storage write's start.
  private store(resp: ResponseHeader): void {
    const cache = this.cache;
    const p = this.owner.phases;
    const s = this.session;
    let r: ReturnType<typeof responseCacheable>;
    try {
      r = responseCacheable(p, s, resp, this.ctx);
    } catch (e) {
      this.owner.warn(s, this.ctx, 'responseCacheFilter failed', e);
      cache.disable('InternalError');
      return;
    }
    if (r.kind === 'Uncacheable') {
      if (cache.bypassing()) cache.disable(r.reason);
      else cache.responseBecameUncacheable(r.reason);
      return;
    }
    const meta = r.meta;
    if (cache.bypassing()) {
      // Predicted uncacheable, cacheable after all: remembered, and stored when it is a plain 200.
      cache.responseBecameCacheable();
      if (s.reqHeader().method !== 'GET' || meta.header.status !== 200) {
        cache.disable('Deferred');
        return;
      }
      cache.cacheMiss();
      p.cacheMiss?.(s, this.ctx);
      if (!cache.enabled()) return;
    }
    const variance = varianceOf(p, meta, this.ctx, s.reqHeader());
    if (variance === VARY_UNCACHEABLE) {
      cache.responseBecameUncacheable(VARY_NOT_CACHEABLE);
      return;
    }
    cache.setCacheMeta(meta);
    cache.updateVariance(variance);
    this.storing = true;
    this.chain = cache.setMissHandler().then(
      (ok) => {
        this.storing = ok;
      },
      (e: unknown) => {
        this.storing = false;
        this.owner.warn(s, this.ctx, 'opening the cache write failed', e);
      },
    );
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
    if (this.storing) this.write(chunk, false);
    if (this.clientGone !== undefined) return;
    const out = this.rangeBody === undefined ? chunk : this.rangeBody.filter(chunk, false);
    if (out !== undefined) this.writer.onResponseData(this, out);
  }

  onResponseTrailers(_c: ResponseController, trailers: string[]): void {
    if (this.replaced === undefined && this.clientGone === undefined)
      this.writer.onResponseTrailers(this, trailers);
  }

  onResponseEnd(_c: ResponseController): void {
    const replaced = this.replaced;
    if (replaced !== undefined) {
      // The cached asset goes out in place of the upstream answer, through a writer of its own.
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
    if (this.storing) this.write(undefined, true);
    const gone = this.clientGone;
    if (gone === undefined) this.writer.onResponseEnd(this);
    else void this.chain!.then(() => this.endWithoutClient!(gone));
  }

  onResponseError(error: PingoraError): void {
    const cache = this.cache;
    if (cache.enabled() && (cache.missHandlerActive() || cache.isCacheLockWriter())) {
      cache.disable('UpstreamError');
    }
    this.storing = false;
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
    this.writer.onResponseError(error);
    this.up.resume();
    return true;
  }

  // --- the writer steers the upstream through the tee ---

  pause(): void {
    this.up.pause();
  }

  resume(): void {
    this.up.resume();
  }

  abort(error: PingoraError): void {
    if (this.cache.enabled()) this.cache.disable('InternalError');
    this.up.abort(error);
  }

  // The response is out; the attempt ends once the storage has the whole asset too, so the next
  // request for it is a hit.
  complete(): void {
    if (this.finished) return;
    this.finished = true;
    const chain = this.chain;
    if (chain === undefined) this.up.complete();
    else void chain.then(() => this.up.complete());
  }
}

const EMPTY = Buffer.alloc(0);
