/**
 * A route's `match` compiled into one predicate over the request. Each condition is turned into a
 * check once, when the file is loaded; a request pays string comparisons on what it already holds
 * (the target, the Host header) and allocates nothing unless a path regex needs the bare path.
 *
 * Semantics chosen:
 * - `host`: exact (`example.com`) or wildcard (`*.example.com`: any subdomain, not the apex),
 *   case-insensitive, port ignored.
 * - `path_prefix` is a plain prefix, as nginx's `location /api` and Envoy's `prefix`: `/api`
 *   matches `/api`, `/api/x` and `/apix`; write `/api/` to match one segment only.
 * - paths are compared after normalization (see {@link routingUri}), never with the query.
 * - `method: GET` admits HEAD too (a HEAD is a GET without its body).
 * - `headers`: a string is the exact first value; `true` present and not empty; `false` absent or empty.
 * - `scheme`: `https` when the connection is TLS (the listener has `tls`), else `http`; what the
 *   client connected with, not what a front proxy's X-Forwarded-Proto claims.
 * - `port`: the local port the connection came in on (the listener's), not the Host header's.
 */
import type { Session } from '@pingora-ts/proxy';
import type { RouteMatch } from '../schema/index.js';
import { hostOf } from '../runtime/request-key.js';
import { routingUri } from './routing-path.js';

/** A compiled `match`: true when the request fits every condition. */
export type RouteMatcher = (session: Session) => boolean;

type Check = (session: Session, uri: string) => boolean;

/**
 * Compiles a route's `match`. An empty match accepts every request.
 *
 * @example
 * ```ts
 * const m = compileMatch({ host: '*.example.com', path_prefix: '/api/', method: ['GET', 'POST'] });
 * m(session); // true for GET http://a.example.com/api/users
 * ```
 */
export function compileMatch(match: RouteMatch): RouteMatcher {
  const checks: Check[] = [];
  // Cheapest and most selective first: method, path, host, then headers and regex.
  if (match.method !== undefined) checks.push(methodCheck(match.method));
  if (match.path !== undefined) checks.push(exactPathCheck(match.path));
  if (match.path_prefix !== undefined) checks.push(prefixCheck(match.path_prefix));
  if (match.host !== undefined) checks.push(hostCheck(match.host));
  if (match.scheme !== undefined) checks.push(schemeCheck(match.scheme));
  if (match.port !== undefined) checks.push(portCheck(match.port));
  if (match.headers !== undefined) {
    for (const [name, want] of Object.entries(match.headers)) checks.push(headerCheck(name, want));
  }
  if (match.path_regex !== undefined) checks.push(regexCheck(match.path_regex));
  if (checks.length === 0) return acceptAll;
  if (checks.length === 1) {
    const only = checks[0]!;
    return (session) => only(session, requestUri(session));
  }
  return (session) => {
    const uri = requestUri(session);
    for (let i = 0; i < checks.length; i++) if (!checks[i]!(session, uri)) return false;
    return true;
  };
}

function acceptAll(): boolean {
  return true;
}

// Routes are tried one after another on the same request: the routing form of its target is
// worked out once and reused by the next route (a one-entry memo keyed by the target string).
let lastTarget = '';
let lastRouting = '';

/** The request's target in routing form (see {@link routingUri}), memoized for the request. */
export function requestUri(session: Session): string {
  const uri = session.reqHeader().uri;
  if (uri !== lastTarget) {
    lastTarget = uri;
    lastRouting = routingUri(uri);
  }
  return lastRouting;
}

function methodCheck(method: string | string[]): Check {
  const list = typeof method === 'string' ? [method] : method;
  const allowed = new Set(list);
  if (allowed.has('GET')) allowed.add('HEAD');
  if (allowed.size === 1) {
    const only = list[0]!;
    return (s) => s.reqHeader().method === only;
  }
  return (s) => allowed.has(s.reqHeader().method);
}

// `uri` may carry a query: the path ends at the first '?'.
function exactPathCheck(path: string): Check {
  const n = path.length;
  return (_s, uri) => uri.startsWith(path) && (uri.length === n || uri.charCodeAt(n) === 0x3f);
}

function prefixCheck(prefix: string): Check {
  const n = prefix.length;
  return (_s, uri) => {
    if (!uri.startsWith(prefix)) return false;
    const q = uri.indexOf('?');
    return q === -1 || q >= n;
  };
}

function regexCheck(source: string): Check {
  const re = new RegExp(source);
  return (_s, uri) => {
    const q = uri.indexOf('?');
    return re.test(q === -1 ? uri : uri.slice(0, q));
  };
}

function isBlank(v: string | undefined): boolean {
  return v === undefined || v.trim() === '';
}

function headerCheck(name: string, want: string | boolean): Check {
  const lower = name.toLowerCase();
  // An empty value counts as absent: `x-api-key:` must not pass a rule that requires a key (and
  // would then go uncounted by a rate limit keyed on it).
  if (want === true) return (s) => !isBlank(s.getHeader(lower));
  if (want === false) return (s) => isBlank(s.getHeader(lower));
  return (s) => s.getHeader(lower) === want;
}

function schemeCheck(scheme: 'http' | 'https'): Check {
  const tls = scheme === 'https';
  // The acceptor records a TLS digest on every TLS connection, and only on those.
  return (s) => (s.digest().sslDigest !== undefined) === tls;
}

function portCheck(port: number | number[]): Check {
  if (typeof port === 'number') return (s) => s.serverAddr()?.port === port;
  const ports = new Set(port);
  return (s) => {
    const local = s.serverAddr();
    return local !== undefined && ports.has(local.port);
  };
}

function hostCheck(host: string | string[]): Check {
  const list = (typeof host === 'string' ? [host] : host).map((h) => h.toLowerCase());
  const exact = list.filter((h) => !h.startsWith('*.'));
  // `*.example.com` → `.example.com`: the host must end with it and have a label before it.
  const suffixes = list.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  return (s) => {
    let h = s.getHeader('host');
    // HTTP/1.0 without Host, or an absolute-form target: take the slow path.
    if (h === undefined) h = hostOf(s);
    const end = hostEnd(h);
    for (let i = 0; i < exact.length; i++) {
      const want = exact[i]!;
      if (end === want.length && sameLower(h, 0, want)) return true;
    }
    for (let i = 0; i < suffixes.length; i++) {
      const sfx = suffixes[i]!;
      if (end > sfx.length && sameLower(h, end - sfx.length, sfx)) return true;
    }
    return false;
  };
}

/** Where the host name ends in a Host value: before `:port`, after `]` for an IPv6 literal. */
function hostEnd(h: string): number {
  if (h.charCodeAt(0) === 0x5b) {
    const close = h.indexOf(']');
    return close === -1 ? h.length : close + 1;
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h.length : colon;
}

/** `h` from `at` equals the lower-case `want`, ASCII case-insensitively, without a copy. */
function sameLower(h: string, at: number, want: string): boolean {
  for (let i = 0; i < want.length; i++) {
    let c = h.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== want.charCodeAt(i)) return false;
  }
  return true;
}
