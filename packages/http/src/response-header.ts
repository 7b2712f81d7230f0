/**
 * Pingora's `ResponseHeader`: status, optional reason phrase, version and case-preserving fields,
 * built directly on the raw arrays Node's parser produces (`res.rawHeaders` of an upstream
 * response) and consumed by `res.writeHead(status, rawArray)`.
 */
import { HttpHeader } from './http-header.js';
import { reasonPhrase } from './reason-phrase.js';
import { invalidHeader, isValidHeaderValue } from './validate.js';
import { type HttpVersion, parseVersion } from './version.js';

function checkStatus(status: number): number {
  // Pingora's StatusCode: three digits, 100–999.
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw invalidHeader(`invalid status ${JSON.stringify(status)}`);
  }
  return status;
}

/**
 * An HTTP response head.
 *
 * @example
 * ```ts
 * const resp = ResponseHeader.build(200);
 * resp.insertHeader('Content-Type', 'text/plain');
 * resp.setContentLength(2);
 * res.writeHead(resp.status, resp.rawHeaders); // node:http server
 *
 * // An upstream response from node:http's client, no copy:
 * const up = ResponseHeader.fromRaw(msg.statusCode!, msg.rawHeaders, msg.statusMessage, msg.httpVersion);
 * ```
 */
export class ResponseHeader extends HttpHeader {
  private _status: number;
  private _reason: string | undefined;
  private _version: HttpVersion;

  private constructor(status: number, raw: string[], version: HttpVersion, noCase: boolean) {
    super(raw, noCase);
    this._status = status;
    this._reason = undefined;
    this._version = version;
  }

  /**
   * A response with no fields that keeps the case of the names it is given. Throws
   * `InvalidHTTPHeader` unless `status` is an integer in 100–999. `sizeHint` is accepted for parity
   * with Pingora.
   */
  static build(status: number, _sizeHint?: number): ResponseHeader {
    return new ResponseHeader(checkStatus(status), [], '1.1', false);
  }

  /** Like {@link build}, with lowercase names written in Pingora's title-case list on HTTP/1. */
  static buildNoCase(status: number, _sizeHint?: number): ResponseHeader {
    return new ResponseHeader(checkStatus(status), [], '1.1', true);
  }

  /**
   * Wraps a parsed response. **Takes ownership of `rawHeaders`** (no copy, no validation). A
   * `reason` equal to the canonical phrase is not stored, as in Pingora; an empty one is kept.
   */
  static fromRaw(
    status: number,
    rawHeaders: string[],
    reason?: string,
    version: HttpVersion | string = '1.1',
  ): ResponseHeader {
    const r = new ResponseHeader(
      status,
      rawHeaders,
      version === '1.1' ? '1.1' : parseVersion(version),
      false,
    );
    if (reason !== undefined && reason !== reasonPhrase(status)) r._reason = reason;
    return r;
  }

  /**
   * {@link fromRaw} for a no-case header: names must already be lowercase (HTTP/2) and `:status`
   * removed (see `responseFromH2`).
   */
  static fromRawNoCase(
    status: number,
    rawHeaders: string[],
    version: HttpVersion | string = '2',
  ): ResponseHeader {
    return new ResponseHeader(status, rawHeaders, parseVersion(version), true);
  }

  /** The status code. */
  get status(): number {
    return this._status;
  }

  /**
   * Sets the status (100–999, else `InvalidHTTPHeader`). A custom reason phrase set before stays,
   * as in Pingora.
   */
  setStatus(status: number): void {
    this._status = checkStatus(status);
  }

  /**
   * Sets the reason phrase; `undefined` (or the canonical phrase) means "use the canonical one".
   * Throws `InvalidHTTPHeader` for CR, LF or other CTLs.
   */
  setReasonPhrase(reason: string | undefined): void {
    if (reason === undefined || reason === reasonPhrase(this._status)) {
      this._reason = undefined;
      return;
    }
    if (!isValidHeaderValue(reason)) throw invalidHeader('invalid reason phrase');
    this._reason = reason;
  }

  /** The reason phrase set, else the canonical phrase of the status, else `undefined`. */
  getReasonPhrase(): string | undefined {
    return this._reason ?? reasonPhrase(this._status);
  }

  /** Sets Content-Length to `length` (spelled `Content-Length` in case mode, as Pingora does). */
  setContentLength(length: number | bigint): void {
    if (typeof length === 'number' ? !Number.isSafeInteger(length) || length < 0 : length < 0n) {
      throw invalidHeader(`invalid Content-Length ${String(length)}`);
    }
    this.insertHeader('Content-Length', length);
  }

  /** The HTTP version (`'1.1'` unless set or given to `fromRaw`). */
  get version(): HttpVersion {
    return this._version;
  }

  /** Sets the version (`'1.0'`, `'1.1'`, `'2'`, …). */
  setVersion(version: HttpVersion): void {
    this._version = parseVersion(version);
  }

  /** A deep copy (the raw array is copied). */
  clone(): ResponseHeader {
    const c = new ResponseHeader(this._status, this.raw.slice(), this._version, this.noCase);
    c._reason = this._reason;
    return c;
  }
}
