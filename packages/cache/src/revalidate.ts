/**
 * Revalidation: a stale asset was sent upstream as a conditional request and the origin answered
 * 304 Not Modified. The stored body is still good; the stored head takes the fields of the 304
 * (RFC 9111 §4.3.4) and the asset gets a new freshness lifetime from them.
 */
import { type ResponseHeader, isHopByHop, isToken, isValidHeaderValue } from '@pingora-ts/http';
import { CacheControl } from './cache-control.js';
import { respCacheable } from './filters.js';
import { CacheMeta, type CacheMetaDefaults } from './meta.js';

// Fields a 304 must not change in the stored 200 even when it carries them: the stored body's
// framing and coding (RFC 9111 §3.2 excepts Content-Length; a cache that stores the decoded or
// re-framed body must keep its own Content-Encoding and Transfer-Encoding), Content-Range, which
// never describes a full 200, and Vary, because a new Vary would no longer match the variance
// this asset is stored under (Pingora ignores Vary on a 304 for the same reason).
const KEPT = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'content-range', 'vary']);

// Field names a Connection header of the 304 lists: hop-by-hop for that message only.
function connectionNames(resp: ResponseHeader): Set<string> {
  const names = new Set<string>();
  for (const line of resp.headers.getAll('connection')) {
    for (const t of line.split(',')) names.add(t.trim().toLowerCase());
  }
  return names;
}

/**
 * The fields a 304 refreshes by default, as Pingora and nginx keep them: freshness and the
 * validator. Every other stored field is what the origin sent with the body that is served.
 */
export const REVALIDATION_FIELDS: readonly string[] = Object.freeze([
  'cache-control',
  'expires',
  'cache-tag',
  'cdn-cache-control',
  'etag',
]);

/**
 * The stored header updated with an upstream 304: each field of `resp304` named in `fields`
 * (default {@link REVALIDATION_FIELDS}; `'all'` takes every field, as RFC 9111 §4.3.4 allows)
 * replaces all stored fields of the same name (case-insensitive; several 304 lines of one name
 * all go in); other stored fields stay, the stored status stays. Never taken from the 304:
 * Content-Length, Transfer-Encoding, Content-Encoding, Content-Range, Vary, hop-by-hop fields and
 * the fields its Connection header names. A field with an invalid name or value (a raw 304 is not
 * validated) is left out rather than failing the revalidation.
 *
 * Returns a new header; `meta.header` is not changed, so a failed update leaves the stored asset
 * as it was.
 *
 * @example
 * ```ts
 * const merged = mergeRevalidation(staleMeta, upstream304);
 * merged.headers.get('etag'); // the 304's ETag if it sent one
 * ```
 */
export function mergeRevalidation(
  meta: CacheMeta,
  resp304: ResponseHeader,
  fields: readonly string[] | 'all' = REVALIDATION_FIELDS,
): ResponseHeader {
  const merged = meta.header.clone();
  const connection = connectionNames(resp304);
  const done = new Set<string>();
  for (const [name] of resp304.headers) {
    const lower = name.toLowerCase();
    if (done.has(lower)) continue;
    done.add(lower);
    if (fields !== 'all' && !fields.includes(lower)) continue;
    if (KEPT.has(lower) || isHopByHop(lower) || connection.has(lower)) continue;
    // A raw 304 is not validated; the stored header must stay valid, so bad fields are dropped.
    if (!isToken(name)) continue;
    const values = resp304.headers.getAll(lower).filter(isValidHeaderValue);
    if (values.length === 0) continue;
    // insertHeader keeps the stored field's position; the 304's further lines follow at the end.
    merged.insertHeader(name, values[0]!);
    for (let i = 1; i < values.length; i++) merged.appendHeader(name, values[i]!);
  }
  return merged;
}

/** What {@link revalidatedMeta} needs besides the old meta and the 304. */
export interface RevalidateOptions {
  /** The request carried Authorization (RFC 9111 §3.5 applies to the merged response). */
  authorizationPresent?: boolean;
  /** The time of the revalidation (epoch ms); `Date.now()` by default. */
  now?: number;
}

/**
 * The meta of an asset revalidated by `resp304`: the header from {@link mergeRevalidation}, and
 * freshness and stale windows recomputed from it with `respCacheable` (Cache-Control, then
 * Expires, then `defaults` for the stored status, which is the 200's: a 304 refreshes with the
 * 200 lifetime). `created` and the variance are kept from `oldMeta`, `updated` becomes `now`,
 * extensions are carried over.
 *
 * Returns `undefined` when the merged response is no longer cacheable (the 304 said `no-store`,
 * say). The stored response may still be served this once, since it was just validated; leave
 * the old asset alone or purge it, and answer with `mergeRevalidation(oldMeta, resp304)`.
 *
 * @example
 * ```ts
 * const meta = revalidatedMeta(stale, resp304, defaults, { now: Date.now() });
 * // undefined: serve the stored body under the merged head once, do not update the asset
 * const head = meta?.header ?? mergeRevalidation(stale, resp304);
 * ```
 */
export function revalidatedMeta(
  oldMeta: CacheMeta,
  resp304: ResponseHeader,
  defaults: CacheMetaDefaults,
  options: RevalidateOptions = {},
): CacheMeta | undefined {
  const now = options.now ?? Date.now();
  const merged = mergeRevalidation(oldMeta, resp304);
  const cc = CacheControl.fromHeaders(merged.headers);
  const fresh = respCacheable(cc, merged, options.authorizationPresent === true, defaults, now);
  if (fresh === undefined) return undefined;
  const meta = new CacheMeta({
    freshUntil: fresh.freshUntil,
    created: oldMeta.created,
    updated: now,
    staleWhileRevalidateSec: fresh.staleWhileRevalidateSec,
    staleIfErrorSec: fresh.staleIfErrorSec,
    header: fresh.header,
    variance: oldMeta.variance,
  });
  Object.assign(meta.extensions, oldMeta.extensions);
  return meta;
}
