/**
 * @module @pingora-ts/ketama
 *
 * nginx-compatible consistent hashing: the ring of nginx's `hash $key consistent` and Pingora's
 * `pingora-ketama`, so a Node.js proxy picks the same upstream for a key as an nginx in front of
 * (or beside) it. CRC-32 of `host\0port` chained 160 times per weight unit, sorted, looked up by
 * CRC-32 of the key. No runtime dependencies; an optional C++ addon builds large rings and
 * serves batch lookups faster, with the TypeScript code as the always-available fallback.
 *
 * @example
 * ```ts
 * import { Bucket, Continuum } from '@pingora-ts/ketama';
 *
 * const ring = new Continuum([new Bucket('10.0.0.1:443', 1), new Bucket('[2001:db8::2]:443', 2)]);
 * const upstream = ring.node(request.url); // '10.0.0.1:443' or '[2001:db8::2]:443'
 * ```
 */
export { Bucket } from './bucket.js';
export { Continuum } from './continuum.js';
export type { ContinuumOptions, Implementation } from './continuum.js';
export { NodeIterator } from './node-iterator.js';
export { crc32 } from './crc32.js';
export { isNativeEnabled } from './native.js';
export { POINT_MULTIPLE } from './ring.js';
export type { Compat } from './ring.js';
