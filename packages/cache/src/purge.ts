/**
 * Purge requests: a `PURGE` to a cached URL removes the asset, and the proxy answers with a
 * canned, empty, uncacheable response whose status says what happened.
 */
import { type RequestHeader, ResponseHeader } from '@pingora-ts/http';

/**
 * What a purge found: `Found` (the asset was cached and is removed), `NotFound`, `NoCache`
 * (caching is not enabled for the request, so there is nothing it could purge) or `Error` (the
 * storage failed).
 */
export type PurgeStatus = 'Found' | 'NotFound' | 'NoCache' | 'Error';

/** The method of a purge request. */
export const PURGE_METHOD = 'PURGE';

const CODES: Record<PurgeStatus, number> = {
  Found: 200,
  NotFound: 404,
  // The method is not allowed on a resource the cache does not handle.
  NoCache: 405,
  Error: 500,
};

/** The status code of the response to a purge: 200, 404, 405 or 500. */
export function purgeStatusCode(status: PurgeStatus): number {
  return CODES[status];
}

/**
 * The canned response to a purge: the status of {@link purgeStatusCode}, `Content-Length: 0`
 * and `Cache-Control: private, no-store`, so no cache on the way keeps the answer. A new header
 * each call: the caller (a purge response filter) may change it.
 *
 * @example
 * ```ts
 * if (isPurgeMethod(req)) {
 *   const found = await storage.purge(key.toCompact(), 'Invalidation');
 *   const resp = purgeResponse(found ? 'Found' : 'NotFound');
 *   res.writeHead(resp.status, resp.rawHeaders).end();
 * }
 * ```
 */
export function purgeResponse(status: PurgeStatus): ResponseHeader {
  const resp = ResponseHeader.build(purgeStatusCode(status));
  resp.insertHeader('Content-Length', 0);
  resp.insertHeader('Cache-Control', 'private, no-store');
  return resp;
}

/**
 * Whether `req` is a purge: its method is `PURGE`. Methods are case-sensitive (RFC 9110 §9.1),
 * so `purge` is not one. A proxy that purges on other signals decides that itself.
 */
export function isPurgeMethod(req: RequestHeader): boolean {
  return req.method === PURGE_METHOD;
}
