/**
 * A cached body as the source of a response: it reads the hit handler and drives a
 * {@link ProxyResponseHandler} (the response writer) exactly as an upstream attempt does, pausing
 * when the client is slow. A single range is served by seeking the hit handler; a multipart range
 * (or a handler that cannot seek) goes through a `RangeBodyFilter` over the whole body.
 */
import type { UpstreamResponseFacts } from '@pingora-ts/core';
import type { HitHandler, RangeBodyFilter } from '@pingora-ts/cache';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { ProxyResponseHandler, ResponseController } from '../response-handler.js';
import type { Session } from '../session.js';

/** Settles a served hit: `undefined` when the whole response went out, else why it did not. */
export type HitDone = (error: PingoraError | undefined) => void;

/** @internal */
export class CacheHitSource implements ResponseController {
  private paused = false;
  private reading = false;
  private settled = false;
  private done!: HitDone;

  constructor(
    private readonly session: Session,
    private readonly hit: HitHandler,
    private readonly handler: ProxyResponseHandler,
    /** Applied to every chunk when the range cannot be served by seeking. */
    private readonly rangeBody: RangeBodyFilter | undefined,
  ) {}

  /**
   * Sends `resp` and then the body; `headerOnly` sends the head alone (HEAD, 304, 416). Resolves
   * when the handler has written everything or the response failed. Never rejects.
   */
  serve(resp: ResponseHeader, headerOnly: boolean): Promise<PingoraError | undefined> {
    return new Promise<PingoraError | undefined>((resolve) => {
      this.done = resolve;
      this.session.downstream.onClientGone(this.onClientGone);
      const length = resp.headers.get('content-length');
      const facts: UpstreamResponseFacts = headerOnly
        ? { body: 'none', contentLength: -1, upgrade: false }
        : length !== undefined
          ? { body: 'length', contentLength: Number(length), upgrade: false }
          : { body: 'stream', contentLength: -1, upgrade: false };
      this.handler.onResponseStart(this, resp, facts, true);
      if (this.settled) return;
      if (headerOnly) this.handler.onResponseEnd(this);
      else void this.pump();
    });
  }

  /**
   * Streams the body to a handler that already has the head: a slow client moved onto the cache's
   * copy of the body it was being sent (the reader is positioned where the client is). Client
   * departures are the caller's to watch. Resolves as {@link serve} does.
   */
  streamBody(): Promise<PingoraError | undefined> {
    return new Promise<PingoraError | undefined>((resolve) => {
      this.done = resolve;
      void this.pump();
    });
  }

  // Reads until paused, finished or failed; `resume` starts it again.
  private async pump(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (!this.paused && !this.settled) {
        const chunk = await this.hit.readBody();
        if (this.settled) return;
        if (chunk === undefined) {
          const tail = this.rangeBody?.filter(undefined, true);
          if (tail !== undefined && tail.length > 0) this.handler.onResponseData(this, tail);
          if (!this.settled) this.handler.onResponseEnd(this);
          return;
        }
        let out: Buffer | undefined = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (this.rangeBody !== undefined) out = this.rangeBody.filter(out, false);
        if (out !== undefined && out.length > 0) this.handler.onResponseData(this, out);
      }
    } catch (e) {
      this.fail(PingoraError.because(ErrorType.InternalError, 'reading the cached body failed', e).asIn());
    } finally {
      this.reading = false;
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused || this.settled) return;
    this.paused = false;
    void this.pump();
  }

  abort(error: PingoraError): void {
    this.settle(error);
  }

  complete(): void {
    this.settle(undefined);
  }

  private readonly onClientGone = (reason: PingoraError | undefined): void => {
    if (this.settled) return;
    this.fail(
      reason ?? PingoraError.explain(ErrorType.ConnectionClosed, 'client closed the connection').asDown(),
    );
  };

  private fail(error: PingoraError): void {
    if (this.settled) return;
    this.handler.onResponseError(error);
    this.settle(error);
  }

  private settle(error: PingoraError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.done(error);
  }
}
