/**
 * @module @pingora-ts/http
 *
 * Pingora's `RequestHeader` and `ResponseHeader` for Node.js: case-preserving, ordered,
 * multi-valued HTTP heads stored as the flat raw arrays Node already produces (`req.rawHeaders`)
 * and consumes (`res.writeHead(status, rawArray)`). A proxied message is never re-parsed or
 * re-built: `fromRaw` takes Node's array as is, lookups are case-insensitive scans, and the same
 * array goes back out. Adds hop-by-hop removal (RFC 9110 §7.6.1) in one pass, name/value
 * validation that throws `InvalidHTTPHeader`, HTTP/1 head serialization byte-compatible with
 * Pingora, and conversions to and from Node's `http2` header objects.
 *
 * @example
 * ```ts
 * import { RequestHeader } from '@pingora-ts/http';
 *
 * http.createServer((msg, res) => {
 *   const req = RequestHeader.fromRaw(msg.method!, msg.url!, msg.rawHeaders, msg.httpVersion);
 *   const info = req.stripHopByHop();            // Connection, Keep-Alive, … and what Connection names
 *   req.insertHeader('X-Forwarded-Proto', 'http');
 *   req.headers.get('host');                      // case-insensitive
 *   upstream.write(requestHeadToWire(req));       // "GET / HTTP/1.1\r\nHost: …\r\n\r\n"
 * });
 * ```
 */
export { HttpHeader } from './http-header.js';
export type { HeaderValueInput } from './http-header.js';
export { RequestHeader } from './request-header.js';
export { ResponseHeader } from './response-header.js';
export { HeaderView } from './header-view.js';
export type { RawHeaderSource } from './header-view.js';
export { Version, parseVersion } from './version.js';
export type { HttpVersion } from './version.js';
export { reasonPhrase } from './reason-phrase.js';
export { isHopByHop, stripHopByHop } from './hop-by-hop.js';
export type { HopByHopInfo, HopByHopOptions } from './hop-by-hop.js';
export {
  headerLines,
  titledHeaderName,
  requestHeadToWire,
  requestHeadString,
  responseHeadToWire,
  responseHeadString,
} from './wire.js';
export {
  requestFromH2,
  responseFromH2,
  toH2RequestHeaders,
  toH2ResponseHeaders,
} from './h2.js';
export type { H2Headers, H2RequestOptions } from './h2.js';
export {
  H2_RAW_REQUEST_HEADERS,
  H2_RAW_RESPONSE_HEADERS,
  toH2RequestRaw,
  toH2ResponseRaw,
  toH2Trailers,
  withoutPseudoHeaders,
} from './h2-raw.js';
export {
  isToken,
  isValidHeaderValue,
  validateHeaderName,
  validateHeaderValue,
  validateMethod,
  validateRequestTarget,
  validateRawHeaders,
  MAX_HEADER_COUNT,
  H1_MAX_HEADERS,
  H1_MAX_HEADER_SIZE,
} from './validate.js';
export * as header from './header-name.js';
