/**
 * The seam between where a response comes from and how it is written downstream. A source (an
 * upstream attempt, a cache hit, a canned purge answer) calls a {@link ProxyResponseHandler}; the
 * handler (the response writer, or a cache tee in front of it) steers the source through the
 * {@link ResponseController} every callback receives. A cache miss is a handler that stores what
 * passes through it; a cache hit is a source that drives the same writer.
 */
import type { UpstreamResponseFacts } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';

/** How a handler steers the source of a response. */
export interface ResponseController {
  /** Stop delivering body chunks (the next stage is full). */
  pause(): void;
  /** Deliver body chunks again. */
  resume(): void;
  /** The handler failed: the source stops and the attempt ends with `error`. */
  abort(error: PingoraError): void;
  /** The handler wrote the whole response: the source's work is over. */
  complete(): void;
}

/**
 * Receives one response. Calls arrive in order: start, data*, trailers?, end — or error at any
 * point after which nothing more arrives.
 *
 * @example
 * ```ts
 * const counter: ProxyResponseHandler = {
 *   onResponseStart(c, resp) { console.log(resp.status); },
 *   onResponseData(c, chunk) { bytes += chunk.length; },
 *   onResponseTrailers() {},
 *   onResponseEnd(c) { c.complete(); },
 *   onResponseError(err) { console.error(err); },
 * };
 * ```
 */
export interface ProxyResponseHandler {
  /**
   * The response head. `facts` say how its body is delimited; `lastChunkEnds` is true when the
   * source reports the end in the same turn as the chunk that completes a known length (so that
   * chunk may be held and written together with the end).
   */
  onResponseStart(
    controller: ResponseController,
    resp: ResponseHeader,
    facts: UpstreamResponseFacts,
    lastChunkEnds: boolean,
  ): void;
  /** A body chunk. */
  onResponseData(controller: ResponseController, chunk: Buffer): void;
  /** Trailer fields (flat raw array), before the end. */
  onResponseTrailers(controller: ResponseController, trailers: string[]): void;
  /** The body is complete. The handler calls `controller.complete()` once it has written it all. */
  onResponseEnd(controller: ResponseController): void;
  /** The source failed; free what the response holds. Nothing more arrives. */
  onResponseError(error: PingoraError): void;
}
