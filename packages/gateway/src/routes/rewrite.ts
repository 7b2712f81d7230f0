/**
 * A route's `rewrite` compiled into a function from request path to upstream path: strip_prefix,
 * then regex with replacement, then add_prefix. The query is never touched.
 */
import type { RouteConfig } from '../schema/index.js';

/** Maps a request path (no query) to the path sent upstream (or looked up on disk). */
export type PathRewrite = (path: string) => string;

/**
 * Compiles a rewrite; `undefined` when the route has none. A result that lost its leading slash
 * gets one back (`strip_prefix: /api` on `/api` gives `/`, on `/apix` gives `/x`).
 *
 * @example
 * ```ts
 * const r = compileRewrite({ strip_prefix: '/api', add_prefix: '/v2' })!;
 * r('/api/users'); // '/v2/users'
 * ```
 */
export function compileRewrite(rewrite: RouteConfig['rewrite']): PathRewrite | undefined {
  if (rewrite === undefined) return undefined;
  const { strip_prefix: strip, add_prefix: add, regex, replacement } = rewrite;
  if (strip === undefined && add === undefined && regex === undefined) return undefined;
  const re = regex === undefined ? undefined : new RegExp(regex);
  // add_prefix '/v2/' before '/users' must not give '/v2//users'.
  const prefix = add?.endsWith('/') ? add.slice(0, -1) : add;
  return (path) => {
    let p = path;
    if (strip !== undefined && p.startsWith(strip)) p = rooted(p.slice(strip.length));
    if (re !== undefined) p = rooted(p.replace(re, replacement!));
    if (prefix !== undefined) p = prefix + p;
    return p;
  };
}

function rooted(p: string): string {
  return p.charCodeAt(0) === 0x2f ? p : `/${p}`;
}

/** `uri` with its path replaced by `rewrite(path)`, the query kept. */
export function rewriteUri(uri: string, rewrite: PathRewrite): string {
  const q = uri.indexOf('?');
  return q === -1 ? rewrite(uri) : rewrite(uri.slice(0, q)) + uri.slice(q);
}
