/**
 * Small HTTP/2 field helpers shared by the client and server sessions: trailers in the shape
 * node:http2 takes, pseudo-header removal from the flat raw arrays it gives, and — on Node
 * versions whose `request()`/`respond()` accept flat raw arrays — HEADERS built as such arrays,
 * which skips a header object per message.
 */
import { isHopByHop, type RequestHeader, type ResponseHeader } from '@pingora-ts/http';

/**
 * A trailer object for `sendTrailers` from a flat raw array: names lowercased, pseudo-headers and
 * connection-specific fields dropped (HTTP/2 forbids them, and node would throw), duplicates kept
 * as arrays.
 */
export function h2Trailers(raw: readonly string[]): Record<string, string | string[]> {
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

/** `raw` without its pseudo-header fields (they lead the array, so usually a single slice). */
export function withoutPseudo(raw: string[]): string[] {
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

function nodeAtLeast(minor22: number): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major >= 24 || (major === 22 && minor >= minor22);
}

/** `session.request()` takes a flat raw header array (Node 22.17+ and 24+): no header object per request. */
export const RAW_REQUEST_HEADERS: boolean = nodeAtLeast(17);
/** `stream.respond()` takes a flat raw header array (Node 22.20+ and 24+). */
export const RAW_RESPONSE_HEADERS: boolean = nodeAtLeast(20);

// What HTTP/2 forbids outright (RFC 9113 §8.2.2); `te` is handled apart.
function forbidden(lower: string): boolean {
  switch (lower.length) {
    case 7:
      return lower === 'upgrade';
    case 10:
      return lower === 'connection' || lower === 'keep-alive';
    case 16:
      return lower === 'proxy-connection';
    case 17:
      return lower === 'transfer-encoding';
    default:
      return false;
  }
}

/**
 * Appends the fields of `raw` to `out` the way `toH2RequestHeaders`/`toH2ResponseHeaders` copy
 * them (lowercase, forbidden fields dropped, `te` only as `trailers`). Returns false when a field
 * needs the slow path: `connection` names other fields to drop.
 */
function copyRaw(
  raw: readonly string[],
  lowercase: boolean,
  skipHost: boolean,
  skipLength: boolean,
  out: string[],
): boolean {
  for (let i = 0; i < raw.length - 1; i += 2) {
    const name = lowercase ? raw[i]!.toLowerCase() : raw[i]!;
    if (name === 'connection') return false;
    if (forbidden(name) || (skipHost && name === 'host') || (skipLength && name === 'content-length'))
      continue;
    if (name === 'te') {
      if (/(?:^|,)\s*trailers\s*(?:;|,|$)/i.test(raw[i + 1]!)) out.push('te', 'trailers');
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  return true;
}

/**
 * Request HEADERS as a flat raw array for Node versions that take one, or `undefined` when the
 * request needs `toH2RequestHeaders` (CONNECT, an absolute-form target, no Host, or a
 * `connection` field naming other fields).
 */
export function h2RequestRaw(
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
export function h2ResponseRaw(resp: ResponseHeader): string[] | undefined {
  const out = [':status', String(resp.status)];
  return copyRaw(resp.rawHeaders, resp.hasCase(), false, false, out) ? out : undefined;
}
