/**
 * Pingora's `RequestHeader`: method, request-target, version and case-preserving fields, built
 * directly on Node's `req.rawHeaders` so a proxied request is never re-parsed or re-built.
 */
import { isUtf8 } from 'node:buffer';
import { HttpHeader } from './http-header.js';
import { authorityStart, normalizeTarget, pathAndQuery, pathOf, queryOf } from './target.js';
import { validateMethod, validateRequestTarget } from './validate.js';
import { type HttpVersion, parseVersion } from './version.js';

function fromNodeVersion(version: string): HttpVersion {
  return version === '1.1' ? '1.1' : parseVersion(version);
}

// Node hands the fragment over in req.url; Pingora never forwards it.
function dropFragment(url: string): string {
  const hash = url.indexOf('#');
  if (hash < 0) return url;
  return hash === 0 ? '/' : url.slice(0, hash);
}

/**
 * An HTTP request head.
 *
 * @example
 * ```ts
 * // In a node:http server: take over Node's arrays, no copy, no parsing.
 * const req = RequestHeader.fromRaw(msg.method!, msg.url!, msg.rawHeaders, msg.httpVersion);
 * req.headers.get('host');
 * req.insertHeader('X-Forwarded-Proto', 'https');
 * req.stripHopByHop();
 *
 * // From scratch (validated):
 * const up = RequestHeader.build('GET', '/index.html');
 * up.appendHeader('Host', 'example.com');
 * ```
 */
export class RequestHeader extends HttpHeader {
  private _method: string;
  private _uri: string;
  private _version: HttpVersion;
  private _sendEndStream: boolean;

  private constructor(method: string, uri: string, raw: string[], version: HttpVersion, noCase: boolean) {
    super(raw, noCase);
    this._method = method;
    this._uri = uri;
    this._version = version;
    this._sendEndStream = true;
  }

  /**
   * A request with no fields that keeps the case of the names it is given (HTTP/1). `path` is the
   * request-target as bytes or as a latin1 string (one character per byte); it may be non-UTF-8,
   * and its fragment is dropped. Throws `InvalidHTTPHeader` for a method that is not a token or a
   * target with a space, CTL or DEL. `sizeHint` is accepted for parity with Pingora; arrays grow
   * on demand.
   */
  static build(method: string, path: string | Uint8Array = '/', _sizeHint?: number): RequestHeader {
    validateMethod(method);
    return new RequestHeader(method, normalizeTarget(path), [], '1.1', false);
  }

  /**
   * Like {@link build}, but names are stored lowercase and written with Pingora's title-case list
   * on HTTP/1: for requests that come from or go to HTTP/2, where case does not exist.
   */
  static buildNoCase(method: string, path: string | Uint8Array = '/', _sizeHint?: number): RequestHeader {
    validateMethod(method);
    return new RequestHeader(method, normalizeTarget(path), [], '1.1', true);
  }

  /**
   * Wraps what Node's HTTP/1 parser produced. **Takes ownership of `rawHeaders`** (no copy): Node
   * creates a fresh array per message, and this header mutates it. Nothing is validated (llhttp
   * already did); a fragment in `url` is dropped. `version` takes Node's `httpVersion` spelling.
   */
  static fromRaw(
    method: string,
    url: string,
    rawHeaders: string[],
    version: HttpVersion | string = '1.1',
  ): RequestHeader {
    return new RequestHeader(method, dropFragment(url), rawHeaders, fromNodeVersion(version), false);
  }

  /**
   * {@link fromRaw} for a no-case header: `rawHeaders` names must already be lowercase (HTTP/2
   * guarantees it) and pseudo-headers must have been removed (see `requestFromH2`).
   */
  static fromRawNoCase(
    method: string,
    url: string,
    rawHeaders: string[],
    version: HttpVersion | string = '2',
  ): RequestHeader {
    return new RequestHeader(method, dropFragment(url), rawHeaders, fromNodeVersion(version), true);
  }

  /** The method, as sent (methods are case-sensitive). */
  get method(): string {
    return this._method;
  }

  /** Sets the method; throws `InvalidHTTPHeader` unless it is a token. */
  setMethod(method: string): void {
    validateMethod(method);
    this._method = method;
  }

  /**
   * The request-target as it goes on the wire: origin-form `path?query` (usually), absolute-form
   * `http://host/path`, authority-form for CONNECT or `*`. A latin1 string, one character per byte,
   * like Node's `req.url`.
   */
  get uri(): string {
    return this._uri;
  }

  /**
   * Replaces the target with a URI. A `URL` or an absolute-form string is reduced to its origin-form
   * `path?query` (Pingora's `set_uri` keeps only what `Uri::path_and_query` yields); any raw target
   * set before is dropped. Use {@link setRawPath} to send an absolute-form target verbatim.
   */
  setUri(uri: string | URL): void {
    if (typeof uri === 'string') {
      const t = normalizeTarget(uri);
      // Absolute-form loses scheme and authority; origin-, asterisk- and authority-form stay.
      this._uri = authorityStart(t) >= 0 || t.charCodeAt(0) === 0x3f ? pathAndQuery(t) : t;
      return;
    }
    const pq = `${uri.pathname}${uri.search}`;
    validateRequestTarget(pq);
    this._uri = pq.charCodeAt(0) === 0x2f ? pq : `/${pq}`;
  }

  /** The target's bytes as they go on the wire (Pingora's `raw_path()`). */
  rawPath(): Buffer {
    return Buffer.from(this._uri, 'latin1');
  }

  /**
   * Sets the target verbatim from bytes or a latin1 string: non-UTF-8 bytes, absolute-form and
   * authority-form are kept exactly (only a fragment is dropped). Throws `InvalidHTTPHeader` for a
   * space, CTL or DEL.
   */
  setRawPath(path: string | Uint8Array): void {
    this._uri = normalizeTarget(path);
  }

  /** Whether the target's bytes are valid UTF-8 (Pingora's `raw_path_is_utf8`). */
  rawPathIsUtf8(): boolean {
    const u = this._uri;
    for (let i = 0; i < u.length; i++) {
      if (u.charCodeAt(i) > 0x7f) return isUtf8(Buffer.from(u, 'latin1'));
    }
    return true;
  }

  /** The path component (no query): of the path for absolute-form, `/` for authority-form. */
  path(): string {
    return pathOf(this._uri);
  }

  /** The query without `?`, or `undefined`. */
  query(): string | undefined {
    return queryOf(this._uri);
  }

  /**
   * Everything after the last `.` of the path, or `undefined` (Pingora's `uri_file_extension`:
   * `/a/b.tar.gz` → `gz`; like Pingora, `/v1.2/x` → `2/x`).
   */
  uriFileExtension(): string | undefined {
    const p = this.path();
    const dot = p.lastIndexOf('.');
    return dot < 0 ? undefined : p.slice(dot + 1);
  }

  /** The HTTP version (`'1.1'` unless set or given to `fromRaw`). */
  get version(): HttpVersion {
    return this._version;
  }

  /** Sets the version (`'1.0'`, `'1.1'`, `'2'`, …; Node's `'2.0'` is accepted). */
  setVersion(version: HttpVersion): void {
    this._version = parseVersion(version);
  }

  /** Whether END_STREAM goes with the HEADERS frame when the body is empty (HTTP/2 only). */
  setSendEndStream(sendEndStream: boolean): void {
    this._sendEndStream = sendEndStream;
  }

  /** The END_STREAM choice for HTTP/2 requests; `undefined` for other versions. */
  sendEndStream(): boolean | undefined {
    return this._version === '2' ? this._sendEndStream : undefined;
  }

  /** A deep copy (the raw array is copied). */
  clone(): RequestHeader {
    const c = new RequestHeader(this._method, this._uri, this.raw.slice(), this._version, this.noCase);
    c._sendEndStream = this._sendEndStream;
    return c;
  }
}
