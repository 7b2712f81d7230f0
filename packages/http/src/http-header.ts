/**
 * What requests and responses share: an owned flat raw header array plus Pingora's header
 * operations on it. Names keep the spelling and order they were given (case mode, HTTP/1) or are
 * stored lowercase (no-case mode, HTTP/2, written with Pingora's title-case list on HTTP/1).
 */
import { HeaderView } from './header-view.js';
import { type HopByHopInfo, type HopByHopOptions, stripHopByHop } from './hop-by-hop.js';
import { indexOfName, removeNameFrom } from './raw.js';
import { MAX_HEADER_COUNT, tooManyHeaders, validateHeaderName, validateHeaderValue } from './validate.js';
import { headerToH1Wire } from './wire.js';

/** A header value as accepted by `appendHeader`/`insertHeader`; numbers are written in decimal. */
export type HeaderValueInput = string | number | bigint;

function valueString(value: HeaderValueInput): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * Base class of {@link RequestHeader} and {@link ResponseHeader}: the header fields and the
 * operations Pingora offers on them. Not constructed directly.
 */
export abstract class HttpHeader {
  /** The owned flat array `[name0, value0, …]`; see {@link HttpHeader.rawHeaders}. */
  protected raw: string[];
  /** Names are stored lowercase and title-cased on the HTTP/1 wire (Pingora's no-case map). */
  protected readonly noCase: boolean;
  #view: HeaderView | undefined;

  protected constructor(raw: string[], noCase: boolean) {
    this.raw = raw;
    this.noCase = noCase;
    this.#view = undefined;
  }

  /**
   * The fields as a flat array `[name0, value0, name1, value1, …]`, in order, duplicates kept: pass
   * it straight to `res.writeHead(status, header.rawHeaders)` or `http.request({ headers })`. This
   * is the header's own array, not a copy: mutate it only through this class.
   */
  get rawHeaders(): string[] {
    return this.raw;
  }

  /** Case-insensitive lookups: `headers.get(name)`, `getAll`, `has`, iteration. */
  get headers(): HeaderView {
    let view = this.#view;
    if (view === undefined) this.#view = view = new HeaderView(this);
    return view;
  }

  /** Whether names keep their original case (built with `build`/`fromRaw`, not `buildNoCase`). */
  hasCase(): boolean {
    return !this.noCase;
  }

  /**
   * Adds a field after the existing ones; other values of the same name stay. Returns whether the
   * name (case-insensitive) was already present, as Pingora's `append_header` does. Throws
   * `InvalidHTTPHeader` for an invalid name or value, or past {@link MAX_HEADER_COUNT} fields.
   *
   * @example
   * ```ts
   * resp.appendHeader('Set-Cookie', 'a=1'); // false
   * resp.appendHeader('set-cookie', 'b=2'); // true: two fields, each with its own spelling
   * ```
   */
  appendHeader(name: string, value: HeaderValueInput): boolean {
    validateHeaderName(name);
    const v = valueString(value);
    validateHeaderValue(v, name);
    const raw = this.raw;
    if (raw.length >= MAX_HEADER_COUNT * 2) throw tooManyHeaders();
    const existed = indexOfName(raw, name) >= 0;
    raw.push(this.noCase ? name.toLowerCase() : name, v);
    return existed;
  }

  /**
   * Sets `name` to exactly one value: the first field of that name (case-insensitive) takes the new
   * value **and the new spelling**, every later one is removed; if there was none, the field is
   * appended. Throws `InvalidHTTPHeader` for an invalid name or value.
   *
   * @example
   * ```ts
   * req.insertHeader('foo', 'bar');
   * req.insertHeader('FoO', 'Bar'); // the wire now has "FoO: Bar\r\n" only
   * ```
   */
  insertHeader(name: string, value: HeaderValueInput): void {
    validateHeaderName(name);
    const v = valueString(value);
    validateHeaderValue(v, name);
    const raw = this.raw;
    const stored = this.noCase ? name.toLowerCase() : name;
    const i = indexOfName(raw, name);
    if (i < 0) {
      if (raw.length >= MAX_HEADER_COUNT * 2) throw tooManyHeaders();
      raw.push(stored, v);
      return;
    }
    raw[i] = stored;
    raw[i + 1] = v;
    removeNameFrom(raw, name, i + 2);
  }

  /**
   * Removes every field called `name` (case-insensitive) and returns the first removed value, or
   * `undefined` if there was none (Pingora's `remove_header`). Read `headers.getAll(name)` first if
   * you need all of them. The order of the remaining fields is unchanged.
   */
  removeHeader(name: string): string | undefined {
    const raw = this.raw;
    const i = indexOfName(raw, name);
    if (i < 0) return undefined;
    const first = raw[i + 1];
    removeNameFrom(raw, name, i);
    return first;
  }

  /**
   * The header lines in HTTP/1 wire format, `Name: value\r\n` per field, in order, with no start
   * line and no final CRLF (Pingora's `header_to_h1_wire`). Case mode writes names as stored;
   * no-case mode writes Pingora's title-case list and lowercase for the rest.
   */
  toH1Wire(): Buffer {
    return headerToH1Wire(this);
  }

  /**
   * Removes the hop-by-hop fields (RFC 9110 §7.6.1 plus the ones named by Connection) in place and
   * reports what they said; see {@link stripHopByHop}.
   */
  stripHopByHop(options?: HopByHopOptions): HopByHopInfo {
    return stripHopByHop(this.raw, options);
  }
}
