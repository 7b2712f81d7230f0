/**
 * Cache-Control parsing and its shared-cache reading (RFC 9111 §5.2). Header values arrive as
 * latin1 strings (one character per wire byte, as Node's parser gives them); directive names are
 * decoded from UTF-8 and lowercased, values are kept as received.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type ResponseHeader, isToken } from '@pingora-ts/http';

/**
 * What a delta-seconds value that overflows becomes: 2^31 − 1, so that an overflow is never read
 * as a negative number later (RFC 9111 §1.2.2).
 */
export const DELTA_SECONDS_OVERFLOW_VALUE = 2147483647;

const U32_MAX = 4294967295;

/** Cacheability as Cache-Control alone states it: `Default` when it says nothing either way. */
export type Cacheable = 'Yes' | 'No' | 'Default';

/** Anything with case-insensitive multi-value lookup, such as `ResponseHeader.headers`. */
export interface HeaderLookup {
  getAll(name: string): string[];
}

// cache-directive = token [ "=" ( token / quoted-string ) ], with `,` or `;` between directives.
// Octets above 0x7F are let through in tokens (obs-text), as the reference parser does.
const TOKEN = '[^\\x00-\\x20()<>@,;:\\\\"/\\[\\]?={}\\x7F]+';
const DIRECTIVE = new RegExp(
  `(?:^|(?:[\\t\\n\\v\\f\\r ]*[,;][\\t\\n\\v\\f\\r ]*))(${TOKEN})(?:=(${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))?`,
  'g',
);
// A latin1 string is a byte string; decode it as UTF-8, or return undefined when it is not valid.
// ASCII is its own UTF-8; a string with characters above 0xFF was built in JS, not read off the
// wire: it is text already.
function utf8Of(s: string): string | undefined {
  let max = 0;
  for (let i = 0; i < s.length; i++) max = Math.max(max, s.charCodeAt(i));
  if (max < 0x80 || max > 0xff) return s;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(s, 'latin1'));
  } catch {
    return undefined;
  }
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

function internal(context: string): PingoraError {
  return PingoraError.explain(ErrorType.InternalError, context);
}

/** A directive's value as received (quotes included); parse it with the methods. */
export class DirectiveValue {
  /** The value as received, a latin1 byte string, quotes included. */
  readonly raw: string;

  constructor(raw: string) {
    this.raw = raw;
  }

  /** The value without its surrounding double quotes, still a latin1 byte string. */
  parseAsBytes(): string {
    const r = this.raw;
    return r.length >= 2 && r.startsWith('"') && r.endsWith('"') ? r.slice(1, -1) : r;
  }

  /** The unquoted value as text; throws `InternalError` when it is not valid UTF-8. */
  parseAsStr(): string {
    const s = utf8Of(this.parseAsBytes());
    if (s === undefined) throw internal('could not parse value as utf8');
    return s;
  }

  /**
   * The value as delta-seconds (quotes ignored); values past 2^32 − 1 become
   * {@link DELTA_SECONDS_OVERFLOW_VALUE}. Throws `InternalError` for anything else that is not
   * an unsigned integer (negative numbers included).
   */
  parseAsDeltaSeconds(): number {
    const s = this.parseAsStr();
    if (!/^\+?[0-9]+$/.test(s)) throw internal('could not parse value as u32');
    const n = Number(s);
    return n > U32_MAX ? DELTA_SECONDS_OVERFLOW_VALUE : n;
  }

  /** Like {@link parseAsDeltaSeconds}, but a non-negative decimal fraction is floored. */
  parseAsDeltaSecondsFloor(): number {
    const s = this.parseAsStr();
    if (/^\+?[0-9]+$/.test(s)) return this.parseAsDeltaSeconds();
    if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) {
      throw internal('could not parse value as u32');
    }
    const f = Number(s);
    if (!Number.isFinite(f) || f < 0) throw internal('could not parse value as u32');
    return f >= DELTA_SECONDS_OVERFLOW_VALUE ? DELTA_SECONDS_OVERFLOW_VALUE : Math.floor(f);
  }

  /** The unquoted value split on `,` with spaces and tabs trimmed (empty items kept). */
  listValues(): string[] {
    return this.parseAsBytes().split(',').map(trimOws);
  }
}

/**
 * Parsed Cache-Control directives, in first-seen order; a repeated directive keeps its first
 * position and its last value. Parsing is lenient where origins are sloppy: `;` works as a
 * separator, boolean directives may carry values, numbers may be quoted.
 *
 * @example
 * ```ts
 * const cc = CacheControl.fromHeaders(resp.headers);
 * cc?.maxAge();                 // 10 for "public, max-age=10"
 * cc?.isCacheable();            // 'Yes'
 * cc?.privateFieldNames();      // ['set-cookie'] for 'private="set-cookie"'
 * ```
 */
export class CacheControl {
  /** Directive name (lowercase) → value, `undefined` for a directive without `=`. */
  readonly directives: Map<string, DirectiveValue | undefined>;
  /**
   * Whether delta-seconds directives accept fractions (floored). Off by default: RFC 9111 asks
   * for integers, and some origins send `max-age=10.5` anyway.
   */
  allowFloatSeconds = false;

  constructor(directives: Map<string, DirectiveValue | undefined> = new Map()) {
    this.directives = directives;
  }

  /** Parses header lines (each a latin1 string), in order, into one set of directives. */
  static parse(lines: readonly string[]): CacheControl {
    const directives = new Map<string, DirectiveValue | undefined>();
    for (const line of lines) {
      for (const m of line.matchAll(DIRECTIVE)) {
        // A name that is not UTF-8 cannot be compared case-insensitively: it is dropped.
        const name = utf8Of(m[1]!);
        if (name === undefined) continue;
        directives.set(name.toLowerCase(), m[2] === undefined ? undefined : new DirectiveValue(m[2]));
      }
    }
    return new CacheControl(directives);
  }

  /**
   * Parses every `name` field (default `cache-control`) of `headers`, or returns `undefined`
   * when there is none.
   */
  static fromHeaders(headers: HeaderLookup, name = 'cache-control'): CacheControl | undefined {
    const lines = headers.getAll(name);
    return lines.length === 0 ? undefined : CacheControl.parse(lines);
  }

  /** Turns on fractional delta-seconds and returns this, for chaining. */
  withFloatSeconds(): this {
    this.allowFloatSeconds = true;
    return this;
  }

  /** Whether the directive is present (with or without a value). */
  hasKey(key: string): boolean {
    return this.directives.has(key);
  }

  private hasKeyWithoutValue(key: string): boolean {
    return this.directives.has(key) && this.directives.get(key) === undefined;
  }

  /** `public` is present. */
  isPublic(): boolean {
    return this.hasKey('public');
  }

  /**
   * A bare `private` is present. `private="a, b"` does not count: it only forbids storing the
   * named fields (see {@link privateFieldNames}).
   */
  isPrivate(): boolean {
    return this.hasKeyWithoutValue('private');
  }

  /** The field names listed in `private="…"`, or `undefined`. */
  privateFieldNames(): string[] | undefined {
    return this.directives.get('private')?.listValues();
  }

  /** A bare `no-cache` is present. */
  noCache(): boolean {
    return this.hasKeyWithoutValue('no-cache');
  }

  /** The field names listed in `no-cache="…"`, or `undefined`. */
  noCacheFieldNames(): string[] | undefined {
    return this.directives.get('no-cache')?.listValues();
  }

  /** `no-store` is present. */
  noStore(): boolean {
    return this.hasKey('no-store');
  }

  /** `must-revalidate` is present. */
  mustRevalidate(): boolean {
    return this.hasKey('must-revalidate');
  }

  /** `proxy-revalidate` is present. */
  proxyRevalidate(): boolean {
    return this.hasKey('proxy-revalidate');
  }

  /** `only-if-cached` is present (a request directive). */
  onlyIfCached(): boolean {
    return this.hasKey('only-if-cached');
  }

  /** Seconds of `key`, `undefined` when absent or valueless; throws `InternalError` if malformed. */
  deltaSeconds(key: string): number | undefined {
    const v = this.directives.get(key);
    if (v === undefined) return undefined;
    return this.allowFloatSeconds ? v.parseAsDeltaSecondsFloor() : v.parseAsDeltaSeconds();
  }

  /** `max-age` seconds; throws `InternalError` when malformed. */
  maxAge(): number | undefined {
    return this.deltaSeconds('max-age');
  }

  /** `s-maxage` seconds; throws `InternalError` when malformed. */
  sMaxage(): number | undefined {
    return this.deltaSeconds('s-maxage');
  }

  /** `stale-while-revalidate` seconds; throws `InternalError` when malformed. */
  staleWhileRevalidate(): number | undefined {
    return this.deltaSeconds('stale-while-revalidate');
  }

  /** `stale-if-error` seconds; throws `InternalError` when malformed. */
  staleIfError(): number | undefined {
    return this.deltaSeconds('stale-if-error');
  }

  // Malformed values read as absent where a decision, not a number, is asked for.
  private lenient(key: string): number | undefined {
    try {
      return this.deltaSeconds(key);
    } catch {
      return undefined;
    }
  }

  /** `No` for `no-store` or bare `private`; `Yes` for `s-maxage`, `max-age` or `public`. */
  isCacheable(): Cacheable {
    if (this.noStore() || this.isPrivate()) return 'No';
    if (this.hasKey('s-maxage') || this.hasKey('max-age') || this.isPublic()) return 'Yes';
    return 'Default';
  }

  /**
   * Whether a response to a request with Authorization may be stored by a shared cache
   * (RFC 9111 §3.5): only with `must-revalidate`, `public` or `s-maxage`.
   */
  allowCachingAuthorizedReq(): boolean {
    return this.mustRevalidate() || this.isPublic() || this.hasKey('s-maxage');
  }

  /**
   * Freshness lifetime in seconds: 0 for bare `no-cache` (always revalidate), else `s-maxage`,
   * else `max-age`; `undefined` when none is usable. A malformed `s-maxage` gives `undefined`
   * rather than falling back to `max-age`, which a shared cache must not prefer over it.
   */
  freshSec(): number | undefined {
    if (this.noCache()) return 0;
    let s: number | undefined;
    try {
      s = this.sMaxage();
    } catch {
      return undefined;
    }
    return s ?? this.lenient('max-age');
  }

  /**
   * Seconds stale content may be served while revalidating: 0 when `must-revalidate`,
   * `proxy-revalidate` or `s-maxage` forbids serving stale (RFC 9111 §4.2.4), else the directive,
   * `undefined` when it says nothing.
   */
  serveStaleWhileRevalidateSec(): number | undefined {
    if (this.forbidsStale()) return 0;
    return this.lenient('stale-while-revalidate');
  }

  /** Like {@link serveStaleWhileRevalidateSec}, for `stale-if-error`. */
  serveStaleIfErrorSec(): number | undefined {
    if (this.forbidsStale()) return 0;
    return this.lenient('stale-if-error');
  }

  private forbidsStale(): boolean {
    return this.mustRevalidate() || this.proxyRevalidate() || this.hasKey('s-maxage');
  }

  /**
   * Removes from `resp` the fields named in `private="…"` and `no-cache="…"` before it is
   * stored. `no-cache` names only require revalidation before reuse; dropping them is the
   * simpler safe reading.
   */
  stripPrivateHeaders(resp: ResponseHeader): void {
    for (const names of [this.privateFieldNames(), this.noCacheFieldNames()]) {
      if (names === undefined) continue;
      for (const n of names) if (isToken(n)) resp.removeHeader(n);
    }
  }
}
