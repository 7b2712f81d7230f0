/**
 * Request-target handling (RFC 9112 §3.2). A target is kept as one latin1 string, one character per
 * byte, exactly as Node hands over `req.url`; it is only taken apart when someone asks for its path
 * or query.
 */
import { validateRequestTarget } from './validate.js';

/** Bytes or a latin1 string → the stored latin1 string (no copy of the bytes). */
export function targetString(target: string | Uint8Array): string {
  if (typeof target === 'string') return target;
  return Buffer.from(target.buffer, target.byteOffset, target.byteLength).toString('latin1');
}

/**
 * A target as given by a caller: the fragment is dropped (it is not part of the request-target and
 * must never reach the upstream), the rest validated, and an empty target becomes `/`.
 */
export function normalizeTarget(target: string | Uint8Array): string {
  let t = targetString(target);
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  validateRequestTarget(t);
  return t === '' ? '/' : t;
}

/**
 * Where the authority of an absolute-form target (`scheme://authority/path?query`) starts, or -1
 * when `t` is not absolute-form.
 */
export function authorityStart(t: string): number {
  const first = t.charCodeAt(0) | 0x20;
  if (first < 0x61 || first > 0x7a) return -1;
  let i = 1;
  const n = t.length;
  for (; i < n; i++) {
    const c = t.charCodeAt(i);
    const l = c | 0x20;
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      continue;
    }
    break;
  }
  return t.startsWith('://', i) ? i + 3 : -1;
}

/** End of the authority that starts at `start`: the first `/` or `?`, or the end. */
function authorityEnd(t: string, start: number): number {
  const n = t.length;
  for (let j = start; j < n; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x2f || c === 0x3f) return j;
  }
  return n;
}

/**
 * The path-and-query an origin server would see for `t`: itself for origin-form, the part after
 * the authority for absolute-form (anchored at `/`), `*` for asterisk-form, and `/` for anything
 * else (authority-form CONNECT targets, an empty authority, unclassifiable targets), as Pingora
 * anchors those to the root.
 */
export function pathAndQuery(t: string): string {
  const c = t.charCodeAt(0);
  if (c === 0x2f) return t;
  if (c === 0x3f) return `/${t}`;
  if (t === '*') return t;
  const a = authorityStart(t);
  if (a < 0) return '/';
  const p = authorityEnd(t, a);
  if (p === a) return '/';
  const rest = t.slice(p);
  if (rest === '') return '/';
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/** The path component of `t` (no query). */
export function pathOf(t: string): string {
  const pq = pathAndQuery(t);
  const q = pq.indexOf('?');
  return q < 0 ? pq : pq.slice(0, q);
}

/** The query of `t` (without `?`), or `undefined` when there is none. */
export function queryOf(t: string): string | undefined {
  const pq = pathAndQuery(t);
  const q = pq.indexOf('?');
  return q < 0 ? undefined : pq.slice(q + 1);
}

/** The authority of an absolute-form target, or `undefined`. */
export function absoluteAuthority(t: string): string | undefined {
  const a = authorityStart(t);
  if (a < 0) return undefined;
  const e = authorityEnd(t, a);
  return e === a ? undefined : t.slice(a, e);
}
