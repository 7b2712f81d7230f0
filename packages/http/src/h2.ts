/**
 * Conversions between the header classes and what Node's `http2` module gives and takes: header
 * objects with pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`, `:status`) and, on the
 * receiving side, the flat `rawHeaders` array of the `'stream'`/`'response'` events. Headers from
 * HTTP/2 are no-case (lowercase names, title-cased on an HTTP/1 wire); `:authority` becomes the
 * first field, `Host`; cookie fields are joined with `"; "` (RFC 9113 §8.2.3). Towards HTTP/2,
 * connection-specific fields are dropped and `TE` survives only as `te: trailers` (RFC 9113 §8.2.2).
 */
import { CONNECTION, connectionTokens, F_CLOSE, hopKind, isH2Forbidden, NOT_HOP, TE } from './hop-by-hop.js';
import type { HttpHeader } from './http-header.js';
import { hasListToken } from './raw.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';
import { absoluteAuthority, pathAndQuery } from './target.js';
import { invalidHeader } from './validate.js';

/** A header object as Node's `http2` module uses it (incoming or outgoing). */
export type H2Headers = Record<string, string | string[] | number | undefined>;

/** Options of {@link toH2RequestHeaders}. */
export interface H2RequestOptions {
  /** `:scheme` to send; default `'https'`. */
  scheme?: string;
}

/** Flattens a header object into `[name, value, …]`, arrays into one field per element. */
function flatten(headers: H2Headers): string[] {
  const raw: string[] = [];
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const e of v) raw.push(name, e);
    else raw.push(name, typeof v === 'string' ? v : String(v));
  }
  return raw;
}

/** The pseudo-headers we use; the first occurrence of each wins. */
interface Pseudo {
  method: string | undefined;
  path: string | undefined;
  authority: string | undefined;
  status: string | undefined;
}

function newPseudo(): Pseudo {
  return { method: undefined, path: undefined, authority: undefined, status: undefined };
}

function setPseudo(pseudo: Pseudo, name: string, value: string): void {
  switch (name) {
    case ':method':
      pseudo.method ??= value;
      break;
    case ':path':
      pseudo.path ??= value;
      break;
    case ':authority':
      pseudo.authority ??= value;
      break;
    case ':status':
      pseudo.status ??= value;
      break;
    // :scheme and :protocol have no place in a RequestHeader.
  }
}

/**
 * Splits pseudo-headers off `raw` into `pseudo` and returns the regular fields, with cookie fields
 * joined into the first one. Names are lowercased defensively (HTTP/2 mandates lowercase).
 */
function regularFields(raw: readonly string[], pseudo: Pseudo, reserveHost: boolean): string[] {
  const out: string[] = reserveHost ? ['host', ''] : [];
  let cookie = -1;
  for (let i = 0; i < raw.length - 1; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      setPseudo(pseudo, name, value);
    } else if (name === 'cookie') {
      if (cookie < 0) {
        cookie = out.length;
        out.push(name, value);
      } else out[cookie + 1] += `; ${value}`;
    } else if (reserveHost && name === 'host') {
      if (out[1] === '') out[1] = value;
    } else out.push(name, value);
  }
  return out;
}

/**
 * A {@link RequestHeader} (no-case, version `'2'`) from an HTTP/2 request: Node's header object or
 * the flat `rawHeaders` of the `'stream'` event. `:authority` wins over a `host` field and becomes
 * the first field `host`; a CONNECT request's target is its `:authority`. Throws `InvalidHTTPHeader`
 * without `:method`, or without `:path` for a method other than CONNECT.
 *
 * @example
 * ```ts
 * h2server.on('stream', (stream, headers, flags, rawHeaders) => {
 *   const req = requestFromH2(rawHeaders);
 *   req.headers.get('host'); // the :authority
 *   requestHeadToWire(req);  // "GET /x HTTP/1.1\r\nHost: …" once req.setVersion('1.1')
 * });
 * ```
 */
export function requestFromH2(headers: H2Headers | string[]): RequestHeader {
  const raw = Array.isArray(headers) ? headers : flatten(headers);
  const pseudo = newPseudo();
  const fields = regularFields(raw, pseudo, true);
  const method = pseudo.method;
  if (method === undefined) throw invalidHeader('missing :method in h2 request');
  const authority = pseudo.authority;
  if (authority !== undefined) fields[1] = authority;
  if (fields[1] === '') fields.splice(0, 2);
  const target = method === 'CONNECT' ? authority : pseudo.path;
  if (target === undefined) throw invalidHeader('missing :path in h2 request');
  return RequestHeader.fromRawNoCase(method, target, fields, '2');
}

/**
 * A {@link ResponseHeader} (no-case, version `'2'`) from an HTTP/2 response: Node's header object or
 * the flat `rawHeaders` of the `'response'` event. Throws `InvalidHTTPHeader` without a valid
 * `:status`.
 */
export function responseFromH2(headers: H2Headers | string[]): ResponseHeader {
  const raw = Array.isArray(headers) ? headers : flatten(headers);
  const pseudo = newPseudo();
  const fields = regularFields(raw, pseudo, false);
  const status = Number(pseudo.status);
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw invalidHeader('missing or invalid :status in h2 response');
  }
  return ResponseHeader.fromRawNoCase(status, fields, '2');
}

function add(out: H2Headers, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = [String(prev), value];
}

/** Copies the fields of `header` into `out`, lowercase, without what HTTP/2 forbids. */
function copyFields(header: HttpHeader, out: H2Headers, skipHost: boolean): void {
  const raw = header.rawHeaders;
  const noCase = !header.hasCase();
  let named: string[] | undefined;
  for (let i = 0; i < raw.length - 1; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const kind = hopKind(name);
    if (kind !== NOT_HOP) {
      if (kind === CONNECTION) {
        if (named === undefined) named = [];
        if ((connectionTokens(value, named) & F_CLOSE) !== 0) named.push('close');
        continue;
      }
      if (isH2Forbidden(kind)) continue;
      if (kind === TE) {
        if (hasListToken(value, 'trailers')) add(out, 'te', 'trailers');
        continue;
      }
    }
    const lower = noCase ? name : name.toLowerCase();
    if (skipHost && lower === 'host') continue;
    add(out, lower, value);
  }
  // Fields named by Connection are connection-specific too; rare, so removed afterwards.
  if (named !== undefined) for (const n of named) delete out[n];
}

/**
 * Node `http2` request headers for `req`: `:method`, `:scheme`, `:authority` (the Host field, else
 * an absolute-form target's authority), `:path`; for CONNECT only `:method` and `:authority`. The
 * object has a null prototype; duplicate fields become arrays. Throws `InvalidHTTPHeader` when no
 * authority can be found, as Pingora does.
 *
 * @example
 * ```ts
 * const stream = session.request(toH2RequestHeaders(req), { endStream: req.sendEndStream() ?? true });
 * ```
 */
export function toH2RequestHeaders(req: RequestHeader, options?: H2RequestOptions): H2Headers {
  const uri = req.uri;
  const out = Object.create(null) as H2Headers;
  out[':method'] = req.method;
  if (req.method === 'CONNECT') {
    // Authority-form: the target is the authority (RFC 9113 §8.5).
    out[':authority'] = uri;
  } else {
    const authority = req.headers.get('host') ?? absoluteAuthority(uri);
    if (authority === undefined) throw invalidHeader('no authority header for h2');
    out[':scheme'] = options?.scheme ?? 'https';
    out[':authority'] = authority;
    out[':path'] = pathAndQuery(uri);
  }
  copyFields(req, out, true);
  return out;
}

/** Node `http2` response headers for `resp`: `:status` then the fields (null prototype). */
export function toH2ResponseHeaders(resp: ResponseHeader): H2Headers {
  const out = Object.create(null) as H2Headers;
  out[':status'] = resp.status;
  copyFields(resp, out, false);
  return out;
}
