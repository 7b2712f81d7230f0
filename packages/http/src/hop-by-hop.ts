/**
 * Hop-by-hop header removal (RFC 9110 §7.6.1) over a flat raw array, in place and in one pass for
 * the common case. The fields stripped are the classic hop-by-hop set (RFC 2616 §13.5.1: Connection,
 * Keep-Alive, Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade)
 * plus Proxy-Connection, and every field named by a token of any Connection header. Only when
 * Connection names a field outside that set does a second pass run.
 */
import { eqIgnoreCase, hasListToken, isOws, removeNameFrom } from './raw.js';

// Field kinds returned by hopKind(); exported for the HTTP/2 conversions of this package.
export const NOT_HOP = 0;
export const CONNECTION = 1;
export const KEEP_ALIVE = 2;
export const PROXY_CONNECTION = 3;
export const PROXY_AUTHENTICATE = 4;
export const PROXY_AUTHORIZATION = 5;
export const TE = 6;
export const TRAILER = 7;
export const TRANSFER_ENCODING = 8;
export const UPGRADE = 9;
// Not hop-by-hop by itself: a field literally named "close" goes only when Connection lists close.
export const CLOSE_FIELD = 10;

/** Which hop-by-hop field `name` is, or 0. Dispatches on length so most names cost one compare. */
export function hopKind(name: string): number {
  switch (name.length) {
    case 2:
      return eqIgnoreCase(name, 'te') ? TE : NOT_HOP;
    case 5:
      return eqIgnoreCase(name, 'close') ? CLOSE_FIELD : NOT_HOP;
    case 7:
      if (eqIgnoreCase(name, 'upgrade')) return UPGRADE;
      return eqIgnoreCase(name, 'trailer') ? TRAILER : NOT_HOP;
    case 10:
      if (eqIgnoreCase(name, 'connection')) return CONNECTION;
      return eqIgnoreCase(name, 'keep-alive') ? KEEP_ALIVE : NOT_HOP;
    case 16:
      return eqIgnoreCase(name, 'proxy-connection') ? PROXY_CONNECTION : NOT_HOP;
    case 17:
      return eqIgnoreCase(name, 'transfer-encoding') ? TRANSFER_ENCODING : NOT_HOP;
    case 18:
      return eqIgnoreCase(name, 'proxy-authenticate') ? PROXY_AUTHENTICATE : NOT_HOP;
    case 19:
      return eqIgnoreCase(name, 'proxy-authorization') ? PROXY_AUTHORIZATION : NOT_HOP;
    default:
      return NOT_HOP;
  }
}

/** Connection-specific field kinds that HTTP/2 forbids outright (RFC 9113 §8.2.2). */
export function isH2Forbidden(kind: number): boolean {
  return (
    kind === CONNECTION ||
    kind === KEEP_ALIVE ||
    kind === PROXY_CONNECTION ||
    kind === TRANSFER_ENCODING ||
    kind === UPGRADE
  );
}

/**
 * Whether `name` is one of the fixed hop-by-hop fields (case-insensitive). Fields that are
 * hop-by-hop only because a Connection header names them are not known here.
 *
 * @example
 * ```ts
 * isHopByHop('Keep-Alive'); // true
 * isHopByHop('Host');       // false
 * ```
 */
export function isHopByHop(name: string): boolean {
  const kind = hopKind(name);
  return kind !== NOT_HOP && kind !== CLOSE_FIELD;
}

/** What {@link stripHopByHop} keeps instead of removing. */
export interface HopByHopOptions {
  /**
   * When the message is an upgrade (a Connection header lists `upgrade` and an Upgrade header is
   * present), keep the Upgrade header(s) and rebuild the Connection header as `Connection: upgrade`
   * (at the first Connection header's position, with its spelling). Use for HTTP/1.1 upgrades
   * (WebSocket) the proxy forwards. Default false.
   */
  keepUpgrade?: boolean;
  /** Keep `TE` as `TE: trailers` when it lists `trailers` (HTTP/2, gRPC); any other TE goes. */
  keepTeTrailers?: boolean;
  /** Forward Proxy-Authorization (for a chain of proxies that shares credentials). */
  keepProxyAuthorization?: boolean;
}

/** What the stripped fields said, collected during the same pass. */
export interface HopByHopInfo {
  /** A Connection header listed `close`. */
  close: boolean;
  /** A Connection header listed `keep-alive`. */
  keepAlive: boolean;
  /** The message asked for an upgrade: Connection listed `upgrade` and Upgrade was present. */
  upgrade: boolean;
  /** The Upgrade value(s), joined with `", "`, or `undefined`. */
  upgradeProtocol: string | undefined;
  /** The Transfer-Encoding value(s), joined with `", "`, or `undefined`. */
  transferEncoding: string | undefined;
  /** The last transfer coding is `chunked` (Pingora's framing rule). */
  chunked: boolean;
  /** A TE header listed `trailers` (the peer accepts trailers). */
  teTrailers: boolean;
  /** How many fields were removed. */
  removed: number;
}

// Connection may name these, but removing them would change the framing or the routing of the
// message downstream of us ("Connection: Content-Length" is a classic desync trick), so we don't.
function isProtected(lowerToken: string): boolean {
  return lowerToken === 'host' || lowerToken === 'content-length';
}

export const F_CLOSE = 1;
const F_KEEP_ALIVE = 2;
const F_UPGRADE = 4;

/** Flags of a Connection value made of one well-known token (the usual case), else 0. */
function connectionFast(value: string): number {
  if (eqIgnoreCase(value, 'keep-alive')) return F_KEEP_ALIVE;
  if (eqIgnoreCase(value, 'close')) return F_CLOSE;
  if (eqIgnoreCase(value, 'upgrade')) return F_UPGRADE;
  return 0;
}

/**
 * Flags of a Connection value (a comma list); tokens naming fields outside the fixed hop-by-hop set
 * are pushed, lowercased, to `extra`.
 */
export function connectionTokens(value: string, extra: string[]): number {
  let flags = 0;
  const n = value.length;
  let start = 0;
  while (start < n) {
    let end = value.indexOf(',', start);
    if (end < 0) end = n;
    let s = start;
    let e = end;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (e > s) {
      const token = value.slice(s, e).toLowerCase();
      if (token === 'close') flags |= F_CLOSE;
      else if (token === 'keep-alive') flags |= F_KEEP_ALIVE;
      else if (token === 'upgrade') flags |= F_UPGRADE;
      else if (hopKind(token) === NOT_HOP && !isProtected(token)) extra.push(token);
      // Fixed hop-by-hop names go anyway; "close" is the option itself, handled by the caller.
    }
    start = end + 1;
  }
  return flags;
}

function lastTokenIsChunked(te: string): boolean {
  const comma = te.lastIndexOf(',');
  let s = comma + 1;
  let e = te.length;
  while (s < e && isOws(te.charCodeAt(s))) s++;
  while (e > s && isOws(te.charCodeAt(e - 1))) e--;
  return e - s === 7 && eqIgnoreCase(te.slice(s, e), 'chunked');
}

function join(prev: string | undefined, value: string): string {
  return prev === undefined ? value : `${prev}, ${value}`;
}

/**
 * Removes the hop-by-hop fields from a flat raw array in place (order of the rest preserved) and
 * reports what they said.
 *
 * @example
 * ```ts
 * const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Trace', 'X-Trace', '1', 'Keep-Alive', '5'];
 * const info = stripHopByHop(raw);
 * raw;            // ['Host', 'a']
 * info.keepAlive; // true
 * ```
 */
export function stripHopByHop(raw: string[], options?: HopByHopOptions): HopByHopInfo {
  const keepUpgrade = options?.keepUpgrade === true;
  const keepTeTrailers = options?.keepTeTrailers === true;
  const keepProxyAuth = options?.keepProxyAuthorization === true;
  const n = raw.length - 1;
  let w = 0;
  let flags = 0;
  let removed = 0;
  let upgradeValue: string | undefined;
  let transferEncoding: string | undefined;
  let teTrailers = false;
  let keptTe = false;
  let extra: string[] | undefined;
  let connSlot = -1;
  let keptUpgrade = false;
  let closeField = false;
  for (let r = 0; r < n; r += 2) {
    const name = raw[r]!;
    let value = raw[r + 1]!;
    const kind = hopKind(name);
    if (kind === CLOSE_FIELD) {
      closeField = true;
    } else if (kind !== NOT_HOP) {
      let keep = false;
      if (kind === CONNECTION) {
        let f = connectionFast(value);
        if (f === 0) {
          if (extra === undefined) extra = [];
          f = connectionTokens(value, extra);
        }
        flags |= f;
        if (keepUpgrade && (f & F_UPGRADE) !== 0 && connSlot < 0) {
          keep = true;
          value = 'upgrade';
          connSlot = w;
        }
      } else if (kind === UPGRADE) {
        upgradeValue = join(upgradeValue, value);
        keep = keepUpgrade;
        keptUpgrade ||= keepUpgrade;
      } else if (kind === TRANSFER_ENCODING) {
        transferEncoding = join(transferEncoding, value);
      } else if (kind === TE) {
        if (hasListToken(value, 'trailers')) {
          teTrailers = true;
          if (keepTeTrailers && !keptTe) {
            keep = keptTe = true;
            value = 'trailers';
          }
        }
      } else if (kind === PROXY_AUTHORIZATION) {
        keep = keepProxyAuth;
      }
      if (!keep) {
        removed++;
        continue;
      }
    }
    if (w !== r) raw[w] = name;
    raw[w + 1] = value;
    w += 2;
  }
  raw.length = w;
  const upgrade = (flags & F_UPGRADE) !== 0 && upgradeValue !== undefined;
  // Kept speculatively because Connection may come after Upgrade; not an upgrade after all.
  if (!upgrade && (connSlot >= 0 || keptUpgrade)) removed += dropUpgrade(raw, connSlot);
  if (closeField && (flags & F_CLOSE) !== 0) {
    if (extra === undefined) extra = [];
    extra.push('close');
  }
  if (extra !== undefined && extra.length > 0) removed += dropNamed(raw, extra);
  return {
    close: (flags & F_CLOSE) !== 0,
    keepAlive: (flags & F_KEEP_ALIVE) !== 0,
    upgrade,
    upgradeProtocol: upgradeValue,
    transferEncoding,
    chunked: transferEncoding !== undefined && lastTokenIsChunked(transferEncoding),
    teTrailers,
    removed,
  };
}

function dropUpgrade(raw: string[], connSlot: number): number {
  let removed = 0;
  if (connSlot >= 0) {
    raw.splice(connSlot, 2);
    removed = 1;
  }
  return removed + removeNameFrom(raw, 'upgrade', 0);
}

// One pass per name: the names a Connection header listed, few in practice.
function dropNamed(raw: string[], lowerNames: readonly string[]): number {
  let removed = 0;
  for (const t of lowerNames) removed += removeNameFrom(raw, t, 0);
  return removed;
}
