/**
 * Whether a request may use the cache and whether a response may be stored, and for how long:
 * the shared-cache rules of RFC 9111 as Pingora applies them. Times are epoch milliseconds; every
 * function that needs the clock takes `now` so callers (and tests) control it.
 */
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { type CacheControl, DELTA_SECONDS_OVERFLOW_VALUE } from './cache-control.js';
import { parseHttpDate } from './http-date.js';
import { CacheMeta, type CacheMetaDefaults } from './meta.js';

/** Whether the request may be answered from or stored in the cache: GET and HEAD only. */
export function requestCacheable(req: RequestHeader): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

// A lifetime of zero must read as already stale: fresh means freshUntil >= now, so use now − 1 s.
function ttlToTime(now: number, sec: number): number {
  return sec <= 0 ? now - 1000 : now + sec * 1000;
}

/**
 * The Expires time (ms) of `resp`, or `undefined` when it has none or several (several are
 * treated as none, RFC 9111 §4.2.1). An unparsable Expires is a time in the past (§5.3): the epoch.
 * When a valid Date is present the lifetime is Expires − Date measured from `now`, so an origin
 * whose clock is off does not shift freshness; without Date, Expires is taken as it is.
 */
export function calculateExpiresHeaderTime(resp: ResponseHeader, now: number): number | undefined {
  const all = resp.headers.getAll('expires');
  if (all.length !== 1) return undefined;
  const expires = parseHttpDate(all[0]!);
  if (expires === undefined) return 0;
  const dates = resp.headers.getAll('date');
  const date = dates.length === 1 ? parseHttpDate(dates[0]!) : undefined;
  if (date === undefined) return expires;
  const lifetime = expires - date;
  return lifetime <= 0 ? now - 1000 : now + lifetime;
}

/**
 * When the response stops being fresh (ms), or `undefined` when it must not be stored.
 * Order: Authorization rule (§3.5), `no-store`/bare `private`, then Cache-Control lifetime
 * (`no-cache` → stale, `s-maxage`, `max-age`), then Expires, then the default for the status.
 */
export function calculateFreshUntil(
  now: number,
  cacheControl: CacheControl | undefined,
  resp: ResponseHeader,
  authorizationPresent: boolean,
  defaults: CacheMetaDefaults,
): number | undefined {
  if (authorizationPresent && !cacheControl?.allowCachingAuthorizedReq()) return undefined;
  if (cacheControl?.isCacheable() === 'No') return undefined;
  const ccSec = cacheControl?.freshSec();
  if (ccSec !== undefined) return ttlToTime(now, ccSec);
  const expires = calculateExpiresHeaderTime(resp, now);
  if (expires !== undefined) return expires;
  const def = defaults.freshSec(resp.status);
  return def === undefined ? undefined : ttlToTime(now, def);
}

/**
 * The stale-while-revalidate and stale-if-error windows (s): from Cache-Control when it states
 * them (0 when it forbids serving stale), else from `defaults`.
 */
export function calculateServeStaleDurations(
  cacheControl: CacheControl | undefined,
  defaults: CacheMetaDefaults,
): { staleWhileRevalidateSec: number; staleIfErrorSec: number } {
  const swr = cacheControl?.serveStaleWhileRevalidateSec() ?? defaults.serveStaleWhileRevalidateSec();
  const sie = cacheControl?.serveStaleIfErrorSec() ?? defaults.serveStaleIfErrorSec();
  return {
    staleWhileRevalidateSec: Math.min(swr, DELTA_SECONDS_OVERFLOW_VALUE),
    staleIfErrorSec: Math.min(sie, DELTA_SECONDS_OVERFLOW_VALUE),
  };
}

/**
 * Decides whether `resp` may be stored and builds its {@link CacheMeta}; `undefined` means
 * uncacheable (Pingora's `Uncacheable(OriginNotCache)`). `cacheControl` is a separate argument so
 * the caller may change or ignore what the origin said.
 *
 * **Takes ownership of `resp`**, as the meta keeps it: fields named by `private="…"` or
 * `no-cache="…"` are removed from it in place. Pass `resp.clone()` if the same header still goes
 * downstream.
 *
 * @example
 * ```ts
 * const cc = CacheControl.fromHeaders(resp.headers);
 * const meta = respCacheable(cc, resp.clone(), req.headers.has('authorization'), defaults, Date.now());
 * if (meta === undefined) session.cache.disable('OriginNotCache');
 * ```
 */
export function respCacheable(
  cacheControl: CacheControl | undefined,
  resp: ResponseHeader,
  authorizationPresent: boolean,
  defaults: CacheMetaDefaults,
  now: number = Date.now(),
): CacheMeta | undefined {
  const freshUntil = calculateFreshUntil(now, cacheControl, resp, authorizationPresent, defaults);
  if (freshUntil === undefined) return undefined;
  const stale = calculateServeStaleDurations(cacheControl, defaults);
  cacheControl?.stripPrivateHeaders(resp);
  return new CacheMeta({ freshUntil, created: now, ...stale, header: resp });
}

// Downstream preconditions and ranges would make the origin answer 304/206, and the cache wants
// the full 200 to store; it answers conditionals and ranges itself from what it stores.
const DOWNSTREAM_ONLY = [
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'range',
];

/**
 * Prepares the upstream request of a cacheable request so the origin returns the whole
 * representation: HEAD becomes GET, and If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since, If-Range and Range are removed. When revalidating a stored `meta`, its
 * Last-Modified and ETag are sent back as If-Modified-Since and If-None-Match.
 *
 * @example
 * ```ts
 * upstreamRequestFilter(upstreamReq, staleMeta); // conditional GET for a stale asset
 * ```
 */
export function upstreamRequestFilter(req: RequestHeader, meta?: CacheMeta): void {
  if (req.method === 'HEAD') req.setMethod('GET');
  for (const name of DOWNSTREAM_ONLY) req.removeHeader(name);
  if (meta === undefined) return;
  // Both validators when present: some origins match on one and not the other.
  const lastModified = meta.headers.get('last-modified');
  if (lastModified !== undefined) req.insertHeader('If-Modified-Since', lastModified);
  const etag = meta.headers.get('etag');
  if (etag !== undefined) req.insertHeader('If-None-Match', etag);
}
