/**
 * HTTP/1.x serialization of heads, byte for byte what Pingora's `header_to_h1_wire`,
 * `http_req_header_to_wire` and `http_resp_header_to_buf` produce. Header strings are latin1 (one
 * byte per character, as Node decodes and encodes them), so one string is built and encoded once.
 */
import type { HttpHeader } from './http-header.js';
import { reasonPhrase } from './reason-phrase.js';
import type { RequestHeader } from './request-header.js';
import type { ResponseHeader } from './response-header.js';
import { invalidHeader } from './validate.js';
import type { HttpVersion } from './version.js';

/**
 * Pingora's spelling of a lowercase name on the HTTP/1 wire when the header keeps no case (built
 * with `buildNoCase`, e.g. from HTTP/2): title case for its twelve well-known names, the name as
 * is otherwise.
 *
 * @example
 * ```ts
 * titledHeaderName('content-length'); // 'Content-Length'
 * titledHeaderName('x-request-id');   // 'x-request-id'
 * ```
 */
export function titledHeaderName(lower: string): string {
  switch (lower) {
    case 'accept-ranges':
      return 'Accept-Ranges';
    case 'age':
      return 'Age';
    case 'cache-control':
      return 'Cache-Control';
    case 'connection':
      return 'Connection';
    case 'content-type':
      return 'Content-Type';
    case 'content-encoding':
      return 'Content-Encoding';
    case 'content-length':
      return 'Content-Length';
    case 'date':
      return 'Date';
    case 'transfer-encoding':
      return 'Transfer-Encoding';
    case 'host':
      return 'Host';
    case 'server':
      return 'Server';
    case 'set-cookie':
      return 'Set-Cookie';
    default:
      return lower;
  }
}

/**
 * The header lines of a flat raw array as a latin1 string, `Name: value\r\n` per field, in order,
 * with no start line and no final CRLF. `noCase` applies Pingora's title-case list to the
 * (lowercase) names, as for a header built with `buildNoCase`. For callers that write their own
 * start line or add fields after these.
 *
 * @example
 * ```ts
 * headerLines(['Host', 'a', 'X-B', '1'], false); // "Host: a\r\nX-B: 1\r\n"
 * headerLines(['content-length', '0'], true);    // "Content-Length: 0\r\n"
 * ```
 */
export function headerLines(raw: readonly string[], noCase: boolean): string {
  let s = '';
  const n = raw.length - 1;
  if (noCase) {
    for (let i = 0; i < n; i += 2) s += `${titledHeaderName(raw[i]!)}: ${raw[i + 1]!}\r\n`;
  } else {
    for (let i = 0; i < n; i += 2) s += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
  }
  return s;
}

/** The header lines of `header` as bytes (see {@link HttpHeader.toH1Wire}). */
export function headerToH1Wire(header: HttpHeader): Buffer {
  return Buffer.from(headerLines(header.rawHeaders, !header.hasCase()), 'latin1');
}

function h1Version(version: HttpVersion): string {
  switch (version) {
    case '1.1':
      return 'HTTP/1.1';
    case '1.0':
      return 'HTTP/1.0';
    case '0.9':
      return 'HTTP/0.9';
    default:
      throw invalidHeader(`HTTP/${version} cannot be written as an HTTP/1 head`);
  }
}

/**
 * The whole HTTP/1 request head as a latin1 string: `METHOD target HTTP/1.x\r\n`, the header
 * lines, `\r\n`. The target is written as stored (`req.uri`, byte for byte, absolute-form
 * included). Throws `InvalidHTTPHeader` for versions 2 and 3. Prefer this over
 * {@link requestHeadToWire} when writing to a socket: `socket.write(s, 'latin1')` encodes straight
 * into the write request and saves allocating a Buffer.
 */
export function requestHeadString(req: RequestHeader): string {
  const head = `${req.method} ${req.uri} ${h1Version(req.version)}\r\n`;
  return `${head}${headerLines(req.rawHeaders, !req.hasCase())}\r\n`;
}

/**
 * {@link requestHeadString} as bytes (Pingora's `http_req_header_to_wire`).
 *
 * @example
 * ```ts
 * const req = RequestHeader.build('GET', '/a?b=1');
 * req.appendHeader('Host', 'example.com');
 * requestHeadToWire(req); // <Buffer "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n">
 * ```
 */
export function requestHeadToWire(req: RequestHeader): Buffer {
  return Buffer.from(requestHeadString(req), 'latin1');
}

// "HTTP/1.1 200 OK\r\n" per status, built once: the status line of most responses is one of a few.
const STATUS_LINES_11: Array<string | undefined> = [];

function statusLine(resp: ResponseHeader): string {
  const status = resp.status;
  const reason = resp.getReasonPhrase();
  const version = resp.version;
  if (version === '1.1' && reason !== undefined && reason === reasonPhrase(status)) {
    let line = STATUS_LINES_11[status];
    if (line === undefined) STATUS_LINES_11[status] = line = `HTTP/1.1 ${status} ${reason}\r\n`;
    return line;
  }
  return `${h1Version(version)} ${status} ${reason ?? ''}\r\n`;
}

/**
 * The whole HTTP/1 response head as a latin1 string: `HTTP/1.x status reason\r\n`, the header
 * lines, `\r\n`. A status without a reason phrase is written as `HTTP/1.1 599 \r\n`, as Pingora
 * does. Throws `InvalidHTTPHeader` for versions 2 and 3.
 */
export function responseHeadString(resp: ResponseHeader): string {
  return `${statusLine(resp)}${headerLines(resp.rawHeaders, !resp.hasCase())}\r\n`;
}

/**
 * {@link responseHeadString} as bytes (Pingora's `http_resp_header_to_buf`).
 *
 * @example
 * ```ts
 * const resp = ResponseHeader.build(200);
 * resp.setContentLength(2);
 * responseHeadToWire(resp); // <Buffer "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n">
 * ```
 */
export function responseHeadToWire(resp: ResponseHeader): Buffer {
  return Buffer.from(responseHeadString(resp), 'latin1');
}
