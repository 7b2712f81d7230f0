/**
 * The path routes are matched against. Most targets are already canonical and are used as they
 * are (no copy); a target with percent-escapes, dot segments or doubled slashes is normalized
 * first, so `/%61dmin`, `/x/../admin` and `//admin` cannot slip past a route written for `/admin`.
 */

// Anything normalization could change: an escape, a dot segment, an empty segment.
const NEEDS_NORMALIZING = /%|\/\.|\/\//;
// Percent-escapes of unreserved characters (RFC 3986 §2.3): decoding them never changes meaning.
const UNRESERVED_ESCAPE = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;

/**
 * The request target to route on: `uri` itself when it is an origin-form target with a canonical
 * path, else its path normalized (unreserved escapes decoded, dot segments resolved, empty segments
 * merged, as nginx's `merge_slashes`) followed by the original query. Absolute-form targets are
 * reduced to their path and query.
 */
export function routingUri(uri: string): string {
  let target = uri;
  if (target.charCodeAt(0) !== 0x2f) target = originForm(target);
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (!NEEDS_NORMALIZING.test(path)) return target;
  const normal = normalizePath(path);
  return q === -1 ? normal : normal + target.slice(q);
}

/** `path` with unreserved escapes decoded, dot segments resolved and empty segments merged. */
export function normalizePath(path: string): string {
  const decoded = path.includes('%') ? path.replace(UNRESERVED_ESCAPE, decodeEscape) : path;
  const out: string[] = [];
  const parts = decoded.split('/');
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '..') out.pop();
    else if (seg !== '.' && seg !== '') out.push(seg);
  }
  // A trailing slash (or a trailing dot segment) names a directory: keep it.
  const last = parts[parts.length - 1];
  const dir = parts.length > 1 && (last === '' || last === '.' || last === '..');
  const joined = `/${out.join('/')}`;
  return dir && out.length > 0 ? `${joined}/` : joined;
}

function decodeEscape(pct: string): string {
  return String.fromCharCode(Number.parseInt(pct.slice(1), 16));
}

// `http://host/path?q` → `/path?q`; `*` and authority-form (CONNECT) route as `/`.
function originForm(target: string): string {
  const scheme = target.indexOf('://');
  if (scheme === -1) return '/';
  const slash = target.indexOf('/', scheme + 3);
  const query = target.indexOf('?', scheme + 3);
  if (slash === -1 || (query !== -1 && query < slash)) return query === -1 ? '/' : `/${target.slice(query)}`;
  return target.slice(slash);
}
