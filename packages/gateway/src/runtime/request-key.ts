/**
 * Evaluates a `requestKey` from the file (`path`, `header:x-user`, `cookie:session`, …) against
 * a request. Compiled once per key, so a request pays one switch and one header lookup.
 */
import type { Session } from '@pingora-ts/proxy';

/** Reads one request value; '' when the request does not carry it. */
export type KeyReader = (session: Session, routeName: string) => string;

/**
 * Compiles a validated request key expression.
 *
 * @example
 * ```ts
 * const read = compileRequestKey('header:x-user');
 * read(session, 'api'); // the x-user header, or ''
 * ```
 */
export function compileRequestKey(expr: string): KeyReader {
  const colon = expr.indexOf(':');
  const kind = colon === -1 ? expr : expr.slice(0, colon);
  const name = colon === -1 ? '' : expr.slice(colon + 1);
  switch (kind) {
    case 'path':
      return (s) => pathOf(s.reqHeader().uri);
    case 'uri':
      return (s) => s.reqHeader().uri;
    case 'host':
      return (s) => hostOf(s);
    case 'method':
      return (s) => s.reqHeader().method;
    case 'client_ip':
      return (s) => s.clientAddr()?.address ?? '';
    case 'route':
      return (_s, route) => route;
    case 'header': {
      const lower = name.toLowerCase();
      return (s) => s.getHeader(lower) ?? '';
    }
    case 'cookie':
      return (s) => cookieValue(s.getHeader('cookie'), name);
    case 'query':
      return (s) => queryValue(s.reqHeader().uri, name);
    default:
      throw new Error(`unknown request key "${expr}"`);
  }
}

/** The path of a request target, without the query. */
export function pathOf(uri: string): string {
  const q = uri.indexOf('?');
  return q === -1 ? uri : uri.slice(0, q);
}

/** The request's host without the port, lower-cased (Host header, else the absolute-form target). */
export function hostOf(session: Session): string {
  const header = session.reqHeader();
  let host = header.headers.get('host') ?? header.uri.match(/^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i)?.[1] ?? '';
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return host.slice(0, end + 1).toLowerCase();
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.toLowerCase();
}

function cookieValue(cookie: string | undefined, name: string): string {
  if (cookie === undefined) return '';
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return '';
}

function queryValue(uri: string, name: string): string {
  const q = uri.indexOf('?');
  if (q === -1) return '';
  for (const pair of uri.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (safeDecode(key) === name) return eq === -1 ? '' : safeDecode(pair.slice(eq + 1));
  }
  return '';
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}
