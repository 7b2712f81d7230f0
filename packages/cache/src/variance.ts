/**
 * Variance: what tells apart several cached variants stored under one primary key (the asset at
 * one URL in several encodings or languages). A {@link VarianceBuilder} collects named values and
 * hashes them into the 16-byte variance hash a `CacheKey` or `CacheMeta` carries;
 * {@link varianceFromVary} builds it from a response's Vary and the request it answers.
 */
import { blake2b } from '@noble/hashes/blake2b';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { HASH_SIZE, type HashBinary } from './key.js';

const encoder = new TextEncoder();
// Ends the name and the value of every entry, so ("ab", "c") and ("a", "bc") hash differently.
const SEPARATOR = new Uint8Array([0]);

/**
 * Collects the named values a variant depends on and hashes them, insensitive to the order they
 * were added in. Adding a name again replaces its value.
 *
 * The hash is BLAKE2b-128 over the entries sorted by the UTF-8 bytes of their names, each written
 * as `name ‖ 0x00 ‖ value ‖ 0x00`: the same bytes Pingora hashes, so variants stored by a Rust
 * deployment are found again.
 *
 * @example
 * ```ts
 * const v = new VarianceBuilder();
 * v.addValue('accept-encoding', req.headers.get('accept-encoding') ?? '');
 * const variance = v.finalize(); // 16 bytes, or undefined when nothing was added
 * if (variance !== undefined) key.setVarianceKey(variance);
 * ```
 */
export class VarianceBuilder {
  readonly #values = new Map<string, Uint8Array>();

  /**
   * Adds `value` (bytes, or a string hashed as UTF-8) under `name`. Bytes are copied, so the
   * caller may reuse its buffer before {@link finalize}.
   */
  addValue(name: string, value: string | Uint8Array): this {
    // new Uint8Array(x) copies; Buffer#slice would not.
    this.#values.set(name, typeof value === 'string' ? encoder.encode(value) : new Uint8Array(value));
    return this;
  }

  /** Like {@link addValue} but keeps `value` itself: the caller must not change it afterwards. */
  addOwnedValue(name: string, value: Uint8Array): this {
    this.#values.set(name, value);
    return this;
  }

  /** Whether any value was added: without one the asset is the primary (root) variant. */
  hasVariance(): boolean {
    return this.#values.size > 0;
  }

  /** The variance hash (16 bytes), or `undefined` when nothing was added. */
  finalize(): HashBinary | undefined {
    if (this.#values.size === 0) return undefined;
    const entries = [...this.#values].map(([name, value]) => [encoder.encode(name), value] as const);
    // Byte order, not UTF-16 order: the two differ past U+FFFF and the hash must match Pingora's.
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    const h = blake2b.create({ dkLen: HASH_SIZE });
    for (const [name, value] of entries) {
      h.update(name);
      h.update(SEPARATOR);
      h.update(value);
      h.update(SEPARATOR);
    }
    return h.digest();
  }
}

/** What {@link varianceFromVary} returns when the response must not be cached: `Vary: *`. */
export const VARY_UNCACHEABLE = '*';

/**
 * The outcome of {@link varianceFromVary}: a variance hash, `undefined` for "no variance" (no
 * Vary, or nothing in it counts), or {@link VARY_UNCACHEABLE}.
 */
export type VaryResult = HashBinary | undefined | typeof VARY_UNCACHEABLE;

/** How {@link varianceFromVary} treats a Vary name its `allow` predicate rejects. */
export type DisallowedVary = 'uncacheable' | 'ignore';

/**
 * The field names a response's Vary lists, lowercased, deduplicated, in first-seen order, across
 * every Vary line. Contains `'*'` when Vary is (or lists) `*`.
 */
export function varyHeaderNames(resp: ResponseHeader): string[] {
  const names = new Set<string>();
  for (const line of resp.headers.getAll('vary')) {
    for (const item of line.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '') names.add(name);
    }
  }
  return [...names];
}

/**
 * Builds the variance of `resp` for `req`: each name listed in the response's Vary paired with
 * the request's value of that field (several lines joined with `", "`, as one combined field
 * value; a missing field counts as the empty value). Returns {@link VARY_UNCACHEABLE} for
 * `Vary: *`, which matches no later request, so storing the response would be useless; turn it
 * into a no-cache reason.
 *
 * `allow` (called with lowercase names) restricts which names may take part, to keep a Vary on `User-Agent` or `Cookie` from
 * splitting the cache into a variant per client. What to do with a name it rejects is the
 * caller's policy, as in Pingora, through `disallowed`:
 * - `'uncacheable'` (default): return {@link VARY_UNCACHEABLE}. Ignoring the name would hand one
 *   client's variant to another whose request differs in it (a `Vary: Cookie` page served across
 *   users), so the safe default is not to store the response.
 * - `'ignore'`: leave the name out, for fields the caller knows do not change the content.
 *
 * @example
 * ```ts
 * const allow = (name: string) => name === 'accept-encoding' || name === 'accept-language';
 * const variance = varianceFromVary(req, resp, allow);
 * if (variance === VARY_UNCACHEABLE) session.cache.disable(NoCacheReason.Custom('Vary'));
 * else if (variance !== undefined) meta.setVariance(variance);
 * ```
 */
export function varianceFromVary(
  req: RequestHeader,
  resp: ResponseHeader,
  allow?: (name: string) => boolean,
  disallowed: DisallowedVary = 'uncacheable',
): VaryResult {
  const builder = new VarianceBuilder();
  for (const name of varyHeaderNames(resp)) {
    if (name === '*') return VARY_UNCACHEABLE;
    if (allow !== undefined && !allow(name)) {
      if (disallowed === 'uncacheable') return VARY_UNCACHEABLE;
      continue;
    }
    // Header values are latin1 strings, one character per wire byte: hash those bytes.
    builder.addOwnedValue(name, Buffer.from(req.headers.getAll(name).join(', '), 'latin1'));
  }
  return builder.finalize();
}
