/**
 * Validation of what we put on the wire. Anything a caller adds (a header, a method, a target) is
 * checked here so that a filter can never smuggle a CR/LF into the head we serialize. Arrays handed
 * over by Node's parser (`req.rawHeaders`) were already checked by llhttp and are trusted; use
 * {@link validateRawHeaders} for arrays from anywhere else.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** The most fields one header may hold (Pingora caps its header maps at 4096). */
export const MAX_HEADER_COUNT = 4096;
/** Pingora's HTTP/1 parser limit on fields per message (configure Node's `maxHeadersCount`). */
export const H1_MAX_HEADERS = 256;
/** Pingora's HTTP/1 limit on the size of a header block in bytes (Node's `maxHeaderSize`). */
export const H1_MAX_HEADER_SIZE = 1048575;

// RFC 9110 §5.6.2 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Whether `s` is a non-empty RFC 9110 token (the grammar of header names and methods). */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Whether `value` may be sent as a field value: any byte except CTLs (0x00–0x1F, 0x7F), with HTAB
 * allowed; obs-text (0x80–0xFF) is allowed. Characters above 0xFF are refused because values are
 * written as latin1 (one byte per character), exactly as Node writes them.
 */
export function isValidHeaderValue(value: string): boolean {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** `InvalidHTTPHeader` with `context` (source unset: the caller decides whose fault it is). */
export function invalidHeader(context: string): PingoraError {
  return PingoraError.explain(ErrorType.InvalidHTTPHeader, context);
}

/**
 * Throws `InvalidHTTPHeader` unless `name` is a token.
 *
 * @example
 * ```ts
 * validateHeaderName('X-Request-Id'); // ok
 * validateHeaderName('Bad Name');     // throws: InvalidHTTPHeader context: invalid header name "Bad Name"
 * ```
 */
export function validateHeaderName(name: string): void {
  if (!isToken(name)) throw invalidHeader(`invalid header name ${JSON.stringify(name)}`);
}

/**
 * Throws `InvalidHTTPHeader` if `value` contains CR, LF, NUL, another CTL (HTAB is fine) or a
 * character above 0xFF. `name` is only used in the error context; the value itself is never echoed
 * (it may be a credential).
 */
export function validateHeaderValue(value: string, name = '?'): void {
  if (!isValidHeaderValue(value)) throw invalidHeader(`invalid value for header ${JSON.stringify(name)}`);
}

/** Throws `InvalidHTTPHeader` unless `method` is a token (extension methods are fine). */
export function validateMethod(method: string): void {
  if (!isToken(method)) throw invalidHeader(`invalid method ${JSON.stringify(method)}`);
}

/**
 * Throws `InvalidHTTPHeader` if a request-target contains a space, a CTL (CR, LF, NUL, …), DEL or a
 * character above 0xFF: any of them would break or forge the request line.
 */
export function validateRequestTarget(target: string): void {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c > 0xff) {
      throw invalidHeader(`invalid request target ${JSON.stringify(target)}`);
    }
  }
}

/**
 * Validates a whole flat raw array from an untrusted source (not needed for Node's `rawHeaders`):
 * even length, at most {@link MAX_HEADER_COUNT} fields, every name a token, every value valid.
 */
export function validateRawHeaders(raw: readonly string[]): void {
  if ((raw.length & 1) !== 0) throw invalidHeader('raw header array has an odd length');
  if (raw.length > MAX_HEADER_COUNT * 2) throw invalidHeader(`more than ${MAX_HEADER_COUNT} headers`);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    validateHeaderName(name);
    validateHeaderValue(raw[i + 1]!, name);
  }
}

/** The error thrown when a header would grow past {@link MAX_HEADER_COUNT}. */
export function tooManyHeaders(): PingoraError {
  return invalidHeader(`header count exceeds ${MAX_HEADER_COUNT}`);
}
