/**
 * Read-only, case-insensitive view of a header's fields. It holds no copy: every call scans the
 * owner's current raw array, so it stays correct after appends, inserts and hop-by-hop stripping.
 */
import { eqIgnoreCase, indexOfName, valuesOf } from './raw.js';

/** Anything that exposes a flat raw header array (the header classes of this package). */
export interface RawHeaderSource {
  readonly rawHeaders: string[];
}

/**
 * Case-insensitive lookups over the fields of a {@link RequestHeader} or {@link ResponseHeader}.
 * Iteration yields `[name, value]` in wire order with the original spelling of each name.
 *
 * @example
 * ```ts
 * const req = RequestHeader.fromRaw('GET', '/', ['Host', 'a', 'Accept', 'x', 'accept', 'y']);
 * req.headers.get('HOST');      // 'a'
 * req.headers.getAll('accept'); // ['x', 'y']
 * [...req.headers];             // [['Host', 'a'], ['Accept', 'x'], ['accept', 'y']]
 * ```
 */
export class HeaderView implements Iterable<[string, string]> {
  readonly #owner: RawHeaderSource;

  constructor(owner: RawHeaderSource) {
    this.#owner = owner;
  }

  /**
   * The first value of `name`, or `undefined`. Duplicates are not joined (Node's `req.headers`
   * joins them with `", "`; Pingora's `headers.get` returns the first): use {@link getAll}.
   */
  get(name: string): string | undefined {
    const raw = this.#owner.rawHeaders;
    const i = indexOfName(raw, name);
    return i < 0 ? undefined : raw[i + 1];
  }

  /** Every value of `name` in wire order (an empty array when absent). */
  getAll(name: string): string[] {
    return valuesOf(this.#owner.rawHeaders, name);
  }

  /** Whether at least one field is called `name`. */
  has(name: string): boolean {
    return indexOfName(this.#owner.rawHeaders, name) >= 0;
  }

  /** How many fields with this name (case-insensitive) there are; `count()` with no name: all. */
  count(name?: string): number {
    const raw = this.#owner.rawHeaders;
    if (name === undefined) return raw.length >> 1;
    let c = 0;
    for (let i = 0; i < raw.length - 1; i += 2) if (eqIgnoreCase(raw[i]!, name)) c++;
    return c;
  }

  /** The number of fields (duplicates counted). */
  get size(): number {
    return this.#owner.rawHeaders.length >> 1;
  }

  /** Field names in wire order, original spelling, duplicates included. */
  *keys(): IterableIterator<string> {
    const raw = this.#owner.rawHeaders;
    for (let i = 0; i < raw.length - 1; i += 2) yield raw[i]!;
  }

  /** `[name, value]` pairs in wire order. */
  *entries(): IterableIterator<[string, string]> {
    const raw = this.#owner.rawHeaders;
    for (let i = 0; i < raw.length - 1; i += 2) yield [raw[i]!, raw[i + 1]!];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
