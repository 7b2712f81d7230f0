/**
 * The framing of a `multipart/byteranges` body (RFC 9110 §14.6): what goes before each part and
 * after the last, and the exact length of the whole, which the 206 announces in Content-Length
 * before any byte of the body is read.
 *
 * Every part starts with `CRLF --boundary CRLF`, the first one too (its CRLF is an empty
 * preamble), so the framing of a part does not depend on its position; the body ends with
 * `CRLF --boundary-- CRLF`. All strings are latin1, one character per byte, as header values are.
 */
import type { ByteRange, MultiRange } from './parse.js';

/** The header block before the bytes of `range`: delimiter, Content-Type, Content-Range, blank line. */
export function multipartPartHeader(info: MultiRange, range: ByteRange): string {
  const type = info.contentType === undefined ? '' : `Content-Type: ${info.contentType}\r\n`;
  return `\r\n--${info.boundary}\r\n${type}Content-Range: bytes ${range.start}-${range.end - 1}/${info.totalLength}\r\n\r\n`;
}

/** The close delimiter that ends the body. */
export function multipartFooter(info: MultiRange): string {
  return `\r\n--${info.boundary}--\r\n`;
}

/**
 * The number of bytes of the whole multipart body of `info`: every part's header and bytes, and
 * the footer. `RangeBodyFilter` emits exactly this many bytes for a complete body.
 *
 * @example
 * ```ts
 * const info = parseRangeHeader('bytes=0-1,4-5', 10, 200, () => 'b') as MultiRange;
 * multipartLength({ ...info, contentType: 'text/plain' }); // announced as Content-Length
 * ```
 */
export function multipartLength(info: MultiRange): number {
  let total = multipartFooter(info).length;
  for (const range of info.ranges) total += multipartPartHeader(info, range).length + range.end - range.start;
  return total;
}
