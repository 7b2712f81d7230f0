/**
 * Conditional requests answered by the cache: whether a client's If-None-Match or
 * If-Modified-Since says its copy is current, and the 304 head sent instead of the stored 200.
 */
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { parseHttpDate } from './http-date.js';

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The entity-tags of an If-None-Match / If-Match value, each without its `W/` prefix, quotes
 * kept. Quoted tags may contain commas; an unquoted legacy tag (some origins send `abc` rather
 * than `"abc"`) runs to the next comma and is kept as written, so it never equals a quoted one.
 */
export function parseEntityTags(value: string): string[] {
  const tags: string[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === 0x2c || isOws(c)) {
      i++;
      continue;
    }
    if (value.startsWith('W/', i)) i += 2;
    if (value.charCodeAt(i) === 0x22) {
      const close = value.indexOf('"', i + 1);
      const end = close < 0 ? n : close + 1;
      tags.push(value.slice(i, end));
      i = end;
    } else {
      let end = value.indexOf(',', i);
      if (end < 0) end = n;
      const tag = value.slice(i, end).trim();
      if (tag !== '') tags.push(tag);
      i = end;
    }
  }
  return tags;
}

function stripWeak(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag;
}

/**
 * Whether an If-None-Match field value matches `etag` by weak comparison (RFC 9110 §8.8.3.2:
 * `W/` is ignored on both sides): `*` matches any current representation, a list matches when
 * one of its tags does.
 */
export function ifNoneMatchMatches(value: string, etag: string): boolean {
  if (value.trim() === '*') return true;
  const target = stripWeak(etag.trim());
  return parseEntityTags(value).includes(target);
}

/**
 * Whether the stored response `resp` may be answered to `req` with a 304 Not Modified, by the
 * precedence of RFC 9110 §13.2.2:
 *
 * 1. Only a 200 to a GET or HEAD: a 304 stands for the 200 the client would otherwise get, and
 *    a failed precondition on another method would be a 412, which the cache does not generate.
 * 2. If-None-Match, when present, decides alone (weak comparison against the ETag; `*` and
 *    lists accepted); without an ETag nothing matches.
 * 3. Otherwise If-Modified-Since: not modified when Last-Modified is not later than it. Either
 *    date invalid: no 304.
 *
 * If-Match and If-Unmodified-Since are not evaluated, as in Pingora: a cache serving a GET
 * forwards no state change for them to protect.
 *
 * @example
 * ```ts
 * if (notModifiedFilter(req, hit)) {
 *   const head = hit.clone();
 *   toNotModified(head);
 *   res.writeHead(head.status, head.rawHeaders).end();
 * }
 * ```
 */
export function notModifiedFilter(req: RequestHeader, resp: ResponseHeader): boolean {
  if (resp.status !== 200) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const inm = req.headers.getAll('if-none-match');
  if (inm.length > 0) {
    const etag = resp.headers.get('etag');
    // RFC 9110 §13.1.3: If-Modified-Since is ignored whenever If-None-Match is present.
    return etag !== undefined && inm.some((v) => ifNoneMatchMatches(v, etag));
  }
  const ims = req.headers.get('if-modified-since');
  const lastModified = resp.headers.get('last-modified');
  if (ims === undefined || lastModified === undefined) return false;
  const since = parseHttpDate(ims);
  const modified = parseHttpDate(lastModified);
  return since !== undefined && modified !== undefined && modified <= since;
}

// Representation metadata that describes a body a 304 does not have (RFC 9110 §15.4.5). Content-
// Length in a 304 would be allowed but no common server sends it, and a client could mistake it
// for the length of this message. Accept-Ranges goes too, as nginx drops it.
const NOT_IN_304 = [
  'content-length',
  'content-type',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'accept-ranges',
];

/**
 * Rewrites a stored 200 head, in place, into the 304 sent downstream: status 304, and the fields
 * that describe the body removed (Content-Length, Content-Type, Content-Encoding, Content-Range,
 * Transfer-Encoding, Accept-Ranges). Everything else stays, in particular what RFC 9110 §15.4.5
 * requires a 304 to repeat: ETag, Last-Modified, Cache-Control, Expires, Vary, Date and
 * Content-Location.
 *
 * @example
 * ```ts
 * const head = meta.header.clone(); // the stored header is shared: never rewrite it
 * toNotModified(head);
 * ```
 */
export function toNotModified(resp: ResponseHeader): void {
  resp.setStatus(304);
  for (const name of NOT_IN_304) resp.removeHeader(name);
}
