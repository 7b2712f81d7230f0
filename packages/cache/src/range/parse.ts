/**
 * Parsing of a request's Range header against the length of the stored representation, with
 * Pingora's (and nginx's) choices where RFC 9110 leaves room: only ascending, non-overlapping
 * ranges are served, a set too large or malformed is ignored (the whole representation is sent)
 * and a set with nothing satisfiable is refused with 416.
 */
import { randomBytes } from 'node:crypto';

/** A byte range of the representation: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Several ranges, sent as one `multipart/byteranges` body. `totalLength` is the length of the
 * whole representation; `contentType` is the representation's type that every part repeats, set
 * by `rangeHeaderFilter` (a part has no Content-Type line while it is `undefined`).
 */
export interface MultiRange {
  kind: 'Multi';
  /** Ascending and disjoint. */
  ranges: ByteRange[];
  /** The multipart boundary, without the leading dashes. */
  boundary: string;
  totalLength: number;
  contentType: string | undefined;
}

/**
 * What a Range header asks for: `None` (no usable range, send the whole representation),
 * `Single` (one range, a 206 with Content-Range), `Multi` (a multipart 206) or `Invalid`
 * (nothing satisfiable, a 416).
 */
export type RangeType =
  | { kind: 'None' }
  | { kind: 'Single'; range: ByteRange }
  | MultiRange
  | { kind: 'Invalid' };

/** Makes a multipart boundary. */
export type BoundaryGenerator = () => string;

/** How many ranges one request may ask for before the header is ignored. */
export const DEFAULT_MAX_MULTIPART_RANGES = 200;

/**
 * A random boundary of 16 hex digits. 64 random bits make a collision with the body's content
 * negligible, which RFC 2046 requires of a boundary, and it is far below the 70-character limit.
 */
export function randomBoundary(): string {
  return randomBytes(8).toString('hex');
}

const NONE: RangeType = Object.freeze({ kind: 'None' });
const INVALID: RangeType = Object.freeze({ kind: 'Invalid' });
// One range-spec: first-last, first-, or -suffix (digits only; spaces and tabs around it).
const SPEC = /^[ \t]*([0-9]*)-([0-9]*)[ \t]*$/;

function toRange(first: string, last: string, length: number): ByteRange | undefined {
  if (first !== '') {
    // A start past the end (a huge number included) cannot be satisfied.
    const start = Number(first);
    if (start >= length) return undefined;
    // An open or too large end stops at the last byte.
    const end = last === '' ? length : Math.min(Number(last), length - 1) + 1;
    return end > start ? { start, end } : undefined;
  }
  if (last === '') return undefined;
  // A suffix: the last N bytes, all of them when N is larger than the representation. A zero
  // suffix, or any suffix of an empty representation, selects no byte: unsatisfiable.
  const suffix = Number(last);
  if (suffix === 0 || length === 0) return undefined;
  return { start: Math.max(0, length - suffix), end: length };
}

/**
 * Parses a Range header value for a representation of `contentLength` bytes.
 *
 * - A unit other than `bytes` (case-insensitive), or a value without `=`: `None`.
 * - `bytes=` with no range-spec at all: `Invalid` (a range request with nothing satisfiable).
 * - More than `maxMultipart` range-specs: `None`, so a flood of tiny ranges costs nothing.
 * - Any malformed range-spec, or ranges out of ascending order or overlapping: `None` (serving
 *   the whole body is always correct; nginx does the same).
 * - Unsatisfiable range-specs (start past the end, end before start, `-0`, anything on an empty
 *   representation) are dropped; none left: `Invalid`. Ends past the last byte are clamped.
 *
 * @example
 * ```ts
 * parseRangeHeader('bytes=0-1', 10);    // { kind: 'Single', range: { start: 0, end: 2 } }
 * parseRangeHeader('bytes=-3', 10);     // Single 7..10
 * parseRangeHeader('bytes=0-1,4-5', 10, 200, () => 'b'); // Multi with boundary 'b'
 * parseRangeHeader('bytes=20-', 10);    // { kind: 'Invalid' }
 * parseRangeHeader('items=0-1', 10);    // { kind: 'None' }
 * ```
 */
export function parseRangeHeader(
  value: string,
  contentLength: number,
  maxMultipart: number = DEFAULT_MAX_MULTIPART_RANGES,
  boundary: BoundaryGenerator = randomBoundary,
): RangeType {
  const eq = value.indexOf('=');
  if (eq < 0 || value.slice(0, eq).toLowerCase() !== 'bytes') return NONE;
  const set = value.slice(eq + 1);
  if (set.trim() === '') return INVALID;
  const specs = set.split(',');
  if (specs.length > maxMultipart) return NONE;
  const ranges: ByteRange[] = [];
  let lastEnd = 0;
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (m === null) return NONE;
    const range = toRange(m[1]!, m[2]!, contentLength);
    if (range === undefined) continue;
    if (range.start < lastEnd) return NONE;
    lastEnd = range.end;
    ranges.push(range);
  }
  if (ranges.length === 0) return INVALID;
  if (ranges.length === 1) return { kind: 'Single', range: ranges[0]! };
  return { kind: 'Multi', ranges, boundary: boundary(), totalLength: contentLength, contentType: undefined };
}
