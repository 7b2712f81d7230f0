/**
 * The fast paths of the HTTP/2 conversions in h2.ts, on flat raw arrays: HEADERS built as
 * `[name, value, …]` for Node versions whose `session.request()`/`stream.respond()` accept one (no
 * header object per message), pseudo-header removal from the arrays node:http2 gives, and trailers
 * in the shape `sendTrailers` takes. They apply the same field rules as `toH2RequestHeaders` /
 * `toH2ResponseHeaders` (one definition: hop-by-hop.ts), and return `undefined` where only the
 * header-object path can express a message.
 */
import { CONNECTION, hopKind, isH2Forbidden, isHopByHop, NOT_HOP, TE } from './hop-by-hop.js';
import { hasListToken } from './raw.js';
import type { RequestHeader } from './request-header.js';
import type { ResponseHeader } from './response-header.js';

function nodeAtLeast(minor22: number): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major >= 24 || (major === 22 && minor >= minor22);
}

/** The running Node's `session.request()` takes a flat raw header array (Node 22.17+ and 24+). */
export const H2_RAW_REQUEST_HEADERS: boolean = nodeAtLeast(17);
/** The running Node's `stream.respond()` takes a flat raw header array (Node 22.20+ and 24+). */
export const H2_RAW_RESPONSE_HEADERS: boolean = nodeAtLeast(20);

/**
 * Appends the fields of `raw` to `out` as `toH2RequestHeaders`/`toH2ResponseHeaders` copy them
 * (lowercase, connection-specific fields dropped, `te` only as `trailers`). Returns false when a
 * field needs the header-object path: a `connection` field may name other fields to drop.
 */
function copyRaw(
  raw: readonly string[],
  lowercase: boolean,
  skipHost: boolean,
  skipLength: boolean,
  out: string[],
): boolean {
  for (let i = 0; i < raw.length - 1; i += 2) {
    const kind = hopKind(raw[i]!);
    if (kind !== NOT_HOP) {
      if (kind === CONNECTION) return false;
      if (isH2Forbidden(kind)) continue;
      if (kind === TE) {
        if (hasListToken(raw[i + 1]!, 'trailers')) out.push('te', 'trailers');
        continue;
      }
    }
    const name = lowercase ? raw[i]!.toLowerCase() : raw[i]!;
    if ((skipHost && name === 'host') || (skipLength && name === 'content-length')) continue;
    out.push(name, raw[i + 1]!);
  }
  return true;
}

/**
 * Request HEADERS as a flat raw array (`:method`, `:scheme`, `:authority` from Host, `:path`,
 * then the fields), or `undefined` when the request needs `toH2RequestHeaders`: CONNECT,
 * an absolute-form target, no Host, or a `connection` field. `dropContentLength` leaves out
 * Content-Length (a body streamed as DATA frames of unknown total).
 *
 * @example
 * ```ts
 * const headers = (H2_RAW_REQUEST_HEADERS ? toH2RequestRaw(req, 'https', false) : undefined) ??
 *   toH2RequestHeaders(req);
 * const stream = session.request(headers as http2.OutgoingHttpHeaders);
 * ```
 */
export function toH2RequestRaw(
  req: RequestHeader,
  scheme: string,
  dropContentLength: boolean,
): string[] | undefined {
  const uri = req.uri;
  if (req.method === 'CONNECT' || uri.charCodeAt(0) !== 0x2f) return undefined;
  const authority = req.headers.get('host');
  if (authority === undefined) return undefined;
  const out = [':method', req.method, ':scheme', scheme, ':authority', authority, ':path', uri];
  return copyRaw(req.rawHeaders, req.hasCase(), true, dropContentLength, out) ? out : undefined;
}

/** Response HEADERS as a flat raw array, or `undefined` when `toH2ResponseHeaders` is needed. */
export function toH2ResponseRaw(resp: ResponseHeader): string[] | undefined {
  const out = [':status', String(resp.status)];
  return copyRaw(resp.rawHeaders, resp.hasCase(), false, false, out) ? out : undefined;
}

/**
 * A trailer object for `sendTrailers` from a flat raw array: names lowercased, pseudo-headers and
 * hop-by-hop fields dropped (HTTP/2 forbids the connection-specific ones, and node would throw),
 * duplicates kept as arrays.
 */
export function toH2Trailers(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length - 1; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 0x3a || isHopByHop(name)) continue;
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/**
 * `raw` (a flat array node:http2 gave) without its pseudo-header fields. They lead the array, so
 * this is usually one slice, or `raw` itself when there are none.
 */
export function withoutPseudoHeaders(raw: string[]): string[] {
  let i = 0;
  while (i < raw.length && raw[i]!.charCodeAt(0) === 0x3a) i += 2;
  if (i === 0) return raw;
  const rest = raw.slice(i);
  for (let j = 0; j < rest.length; j += 2) {
    if (rest[j]!.charCodeAt(0) === 0x3a)
      return rest.filter((_, k) => (k & 1 ? rest[k - 1]! : rest[k]!).charCodeAt(0) !== 0x3a);
  }
  return rest;
}
