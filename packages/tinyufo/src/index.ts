/**
 * @module @pingora-ts/tinyufo
 *
 * TinyUFO, the in-memory cache algorithm of Cloudflare Pingora: S3-FIFO eviction (a small
 * probation queue and a main queue, one use bit-counter per item) with TinyLFU admission (a
 * count-min sketch of how often each key was put decides whether a newcomer may push out the one
 * item it would evict). It beats LRU's hit ratio by 5–14 points on zipf workloads, and a read is a
 * map lookup plus a byte increment: no list to relink.
 *
 * An optional C++ core (node-addon-api) runs the same policy; see {@link isNativeEnabled}.
 *
 * @example
 * ```ts
 * import { TinyUfo } from '@pingora-ts/tinyufo';
 *
 * const cache = new TinyUfo<string, Uint8Array>(64 * 1024 * 1024, 10_000); // 64 MiB budget
 * const body = new Uint8Array(4096);
 * cache.put('/index.html', body, body.byteLength);
 * cache.get('/index.html'); // body
 * ```
 */
export { TinyUfo } from './tiny-ufo.js';
export type { Evicted, TinyUfoOptions } from './tiny-ufo.js';
export type { TinyUfoKey } from './hash.js';
export { isNativeEnabled } from './native.js';
