/**
 * The body side of range requests: cuts the requested bytes out of the full body as it streams
 * by, in order, the way a miss (the origin's body) or a hit that cannot seek delivers it.
 */
import { multipartFooter, multipartPartHeader } from './multipart.js';
import type { MultiRange, RangeType } from './parse.js';

const EMPTY = Buffer.alloc(0);

/**
 * Emits, from the full body fed in order, only what the range response carries: the bytes of a
 * `Single` range; for `Multi`, each range framed as a `multipart/byteranges` part and the closing
 * delimiter right after the last range's final byte; nothing for `Invalid`; everything for
 * `None`. For a complete body the bytes out equal the Content-Length `rangeHeaderFilter` set.
 *
 * Build it from the value `rangeHeaderFilter` returned: for `Multi` that value carries the
 * original Content-Type and length the part headers repeat.
 *
 * @example
 * ```ts
 * const filter = new RangeBodyFilter(rangeHeaderFilter(req, resp));
 * upstream.on('data', (chunk) => { const out = filter.filter(chunk, false); if (out) res.write(out); });
 * upstream.on('end', () => { const out = filter.filter(undefined, true); res.end(out); });
 * ```
 */
export class RangeBodyFilter {
  /** What is being served. */
  readonly range: RangeType;
  // Offset in the full body of the next byte fed in.
  #pos = 0;
  // Index of the first Multi range whose bytes are not all out yet.
  #part = 0;
  // Whether the current Multi part's header is out.
  #partStarted = false;

  constructor(range: RangeType) {
    this.range = range;
  }

  /**
   * Feeds the next `chunk` of the full body (`undefined` when there is none) and returns what to
   * send, or `undefined` when nothing is due. The second argument marks the last call, for
   * symmetry with the proxy's body filters; nothing waits for it, since the closing delimiter
   * goes out with the last range's final byte. A body that ends early leaves the output short of
   * Content-Length (see {@link isComplete}), so the client sees a truncated response rather than
   * bytes the representation never had.
   */
  filter(chunk: Buffer | undefined, _end: boolean): Buffer | undefined {
    const range = this.range;
    if (range.kind === 'None') return chunk;
    if (range.kind === 'Invalid') return undefined;
    if (chunk === undefined || chunk.length === 0) return undefined;
    const from = this.#pos;
    this.#pos += chunk.length;
    if (range.kind === 'Single') return nonEmpty(slice(chunk, from, range.range.start, range.range.end));
    return this.#multi(range, chunk, from);
  }

  /** Whether every byte of the range response has been emitted (always true for `None`). */
  isComplete(): boolean {
    const range = this.range;
    switch (range.kind) {
      case 'None':
      case 'Invalid':
        return true;
      case 'Single':
        return this.#pos >= range.range.end;
      case 'Multi':
        return this.#part >= range.ranges.length;
    }
  }

  #multi(info: MultiRange, chunk: Buffer, from: number): Buffer | undefined {
    const to = from + chunk.length;
    const out: Buffer[] = [];
    const ranges = info.ranges;
    while (this.#part < ranges.length) {
      const r = ranges[this.#part]!;
      // Ranges ascend: when this one starts after the chunk, so do all the others.
      if (r.start >= to) break;
      if (!this.#partStarted) {
        out.push(Buffer.from(multipartPartHeader(info, r), 'latin1'));
        this.#partStarted = true;
      }
      out.push(slice(chunk, from, r.start, r.end));
      if (r.end > to) break;
      this.#part++;
      this.#partStarted = false;
      if (this.#part === ranges.length) out.push(Buffer.from(multipartFooter(info), 'latin1'));
    }
    return out.length === 0 ? undefined : Buffer.concat(out);
  }
}

// The part of `chunk` (which starts at offset `from` of the body) that lies in [start, end).
function slice(chunk: Buffer, from: number, start: number, end: number): Buffer {
  const a = Math.max(start - from, 0);
  const b = Math.min(end - from, chunk.length);
  return b > a ? chunk.subarray(a, b) : EMPTY;
}

function nonEmpty(b: Buffer): Buffer | undefined {
  return b.length === 0 ? undefined : b;
}
