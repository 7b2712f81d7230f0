/**
 * The response-header side of range requests: decides from the request and the full (200)
 * response what to send, and rewrites the response head into the 206 or 416 that goes
 * downstream. The body is cut by `RangeBodyFilter`.
 */
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { parseHttpDate } from '../http-date.js';
import { multipartLength } from './multipart.js';
import {
  type BoundaryGenerator,
  DEFAULT_MAX_MULTIPART_RANGES,
  type RangeType,
  parseRangeHeader,
  randomBoundary,
} from './parse.js';

const DIGITS = /^[0-9]+$/;

function contentLengthOf(resp: ResponseHeader): number | undefined {
  const v = resp.headers.get('content-length')?.trim();
  if (v === undefined || !DIGITS.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

// A quote among the first three characters marks an entity-tag (`"x"` or `W/"x"`); an HTTP-date
// never has one, which is how RFC 9110 §13.1.5 tells the two forms apart.
function looksLikeEtag(v: string): boolean {
  return v.slice(0, 3).includes('"');
}

/**
 * Whether the If-Range value `ifRange` still describes the representation `resp`, so the range
 * may be served (RFC 9110 §13.1.5). An entity-tag must match the ETag by strong comparison: both
 * strong (no `W/`) and the same characters. A date must be a valid HTTP-date equal to
 * Last-Modified. Anything else does not match, and the whole representation is sent.
 */
export function ifRangeMatches(ifRange: string, resp: ResponseHeader): boolean {
  const value = ifRange.trim();
  if (looksLikeEtag(value)) {
    const etag = resp.headers.get('etag')?.trim();
    return etag !== undefined && !value.startsWith('W/') && value.startsWith('"') && etag === value;
  }
  const lastModified = resp.headers.get('last-modified');
  if (lastModified === undefined) return false;
  const a = parseHttpDate(value);
  return a !== undefined && a === parseHttpDate(lastModified);
}

function requestedRange(
  req: RequestHeader,
  resp: ResponseHeader,
  contentLength: number,
  maxMultipart: number,
  boundary: BoundaryGenerator,
): RangeType {
  // A Range on any other method is ignored (RFC 9110 §14.2); HEAD gets the head a GET would.
  if (req.method !== 'GET' && req.method !== 'HEAD') return { kind: 'None' };
  const range = req.headers.get('range');
  if (range === undefined) return { kind: 'None' };
  const ifRange = req.headers.get('if-range');
  if (ifRange !== undefined && !ifRangeMatches(ifRange, resp)) return { kind: 'None' };
  return parseRangeHeader(range, contentLength, maxMultipart, boundary);
}

/**
 * Applies the request's Range to a full response head, in place, and returns what the body
 * filter must do. Only a 200 with a valid Content-Length answering a GET or HEAD is eligible
 * (ranges over a body of unknown length would need buffering; nginx requires the length too).
 *
 * - `None`: unchanged except `Accept-Ranges: bytes` when eligible, advertising ranges.
 * - `Single`: 206, `Content-Range: bytes s-e/len`, Content-Length of the range.
 * - `Multi`: 206, `Content-Type: multipart/byteranges; boundary=…`, Content-Length of the whole
 *   multipart body; the returned value carries the original Content-Type (default
 *   `application/octet-stream`) that every part repeats.
 * - `Invalid`: 416, Content-Range: bytes &#42;/len, `Content-Length: 0`, and no Content-Type,
 *   Content-Encoding or Transfer-Encoding, as the body is empty.
 *
 * Accept-Ranges is removed from every 206 and 416.
 *
 * @example
 * ```ts
 * const range = rangeHeaderFilter(req, resp); // resp is now the 206/416 head, or still the 200
 * const body = new RangeBodyFilter(range);
 * for await (const chunk of cachedBody) send(body.filter(chunk, false));
 * send(body.filter(undefined, true));
 * ```
 */
export function rangeHeaderFilter(
  req: RequestHeader,
  resp: ResponseHeader,
  maxMultipart: number = DEFAULT_MAX_MULTIPART_RANGES,
  boundary: BoundaryGenerator = randomBoundary,
): RangeType {
  // Ranges apply only where the full answer would be a 200 (after the preconditions).
  if (resp.status !== 200) return { kind: 'None' };
  const length = contentLengthOf(resp);
  if (length === undefined) return { kind: 'None' };
  const range = requestedRange(req, resp, length, maxMultipart, boundary);
  switch (range.kind) {
    case 'None':
      resp.insertHeader('Accept-Ranges', 'bytes');
      return range;
    case 'Single': {
      const { start, end } = range.range;
      resp.setStatus(206);
      resp.removeHeader('accept-ranges');
      resp.insertHeader('Content-Length', end - start);
      resp.insertHeader('Content-Range', `bytes ${start}-${end - 1}/${length}`);
      return range;
    }
    case 'Multi': {
      const multi = {
        ...range,
        contentType: resp.headers.get('content-type') ?? 'application/octet-stream',
      };
      resp.setStatus(206);
      resp.removeHeader('accept-ranges');
      resp.removeHeader('content-range');
      resp.insertHeader('Content-Length', multipartLength(multi));
      resp.insertHeader('Content-Type', `multipart/byteranges; boundary=${multi.boundary}`);
      return multi;
    }
    case 'Invalid':
      resp.setStatus(416);
      resp.removeHeader('accept-ranges');
      resp.removeHeader('content-type');
      resp.removeHeader('content-encoding');
      resp.removeHeader('transfer-encoding');
      resp.insertHeader('Content-Length', 0);
      resp.insertHeader('Content-Range', `bytes */${length}`);
      return range;
  }
}
