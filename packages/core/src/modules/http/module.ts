/**
 * The contract of an HTTP module (Pingora's `HttpModule` / `HttpModuleBuilder`): per-request
 * filters that run around the user's phases on every request of an app, registered once when the
 * app is built. A module is made per request by its builder, so it may keep request state in
 * fields. Every hook is optional; an app with no module pays nothing per request.
 */
import type { Transform } from 'node:stream';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';

/**
 * What a per-chunk body filter returns: `undefined` keeps the chunk, a `Buffer` replaces it, `null`
 * drops it. The chunk given is `undefined` when only the end of the body is being signalled.
 */
export type ModuleBodyResult = Buffer | null | undefined;

/**
 * One module's state for one request. Hooks run in module order (see
 * {@link HttpModuleBuilder.order}); header hooks may be async, body hooks are synchronous so
 * streaming never waits on a module per chunk.
 *
 * Order on the response path: the user's `responseFilter`, then each module's
 * `responseHeaderFilter`, then the head is written. Body chunks pass the user's body filters, then
 * each module's `responseBodyFilter`, then the modules' body streams (see
 * {@link HttpModule.responseBodyStream}), then go to the client.
 */
export interface HttpModule {
  /** Sees (and may edit) the request header before the user's `requestFilter`. */
  requestHeaderFilter?(req: RequestHeader): void | Promise<void>;
  /**
   * Sees each request body chunk on its way upstream, before the user's `requestBodyFilter` (as
   * Pingora: on the request path modules see the client's bytes first).
   */
  requestBodyFilter?(body: Buffer | undefined, endOfStream: boolean): ModuleBodyResult;
  /** Sees (and may edit) the response header before it is written downstream. */
  responseHeaderFilter?(resp: ResponseHeader, endOfStream: boolean): void | Promise<void>;
  /** Sees each response body chunk before it is written downstream. */
  responseBodyFilter?(body: Buffer | undefined, endOfStream: boolean): ModuleBodyResult;
  /**
   * A stream the response body is piped through, decided by `responseHeaderFilter` (asked once,
   * right after every module's `responseHeaderFilter` ran): compression returns a zlib stream
   * here, so encoding runs off the main thread with backpressure both ways. `undefined` (or no
   * hook) leaves the body alone. Streams of several modules are chained in module order.
   */
  responseBodyStream?(): Transform | undefined;
  /** Sees (and may edit) the response trailers (flat raw array) before they are written. */
  responseTrailerFilter?(trailers: string[]): void;
  /** The response is finished (or was abandoned): release what the module holds. */
  responseDoneFilter?(): void;
}

/**
 * Makes one {@link HttpModule} per request (Pingora's `HttpModuleBuilder`). One builder per class
 * is kept: adding a second builder of the same class replaces the first.
 *
 * @example
 * ```ts
 * class AddServerHeader implements HttpModule {
 *   responseHeaderFilter(resp: ResponseHeader) { resp.insertHeader('Server', 'edge'); }
 * }
 * const builder: HttpModuleBuilder = { init: () => new AddServerHeader() };
 * ```
 */
export interface HttpModuleBuilder<M extends HttpModule = HttpModule> {
  /** Modules with a higher order run first; equal orders run in the order they were added. Default 0. */
  readonly order?: number;
  /** A fresh module for one request. */
  init(): M;
}
