/**
 * `Accept-Encoding` with its quality values (RFC 9110 §12.5.3): which codings a client takes and
 * how much it prefers each. A coding with `q=0` is refused; `*` rates every coding not named; a
 * coding neither named nor covered by `*` is not acceptable.
 */
import type { CompressionAlgorithm } from './algorithm.js';

/** What a client said in `Accept-Encoding`, parsed. */
export interface AcceptEncoding {
  /** The weight of each named coding (lowercase; `x-gzip` folded into `gzip`), first mention wins. */
  readonly codings: ReadonlyMap<string, number>;
  /** The weight of `*`, or `undefined` when the client did not send one. */
  readonly star: number | undefined;
}

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

// Clients send a handful of distinct values (one per browser build), so parses are shared; the
// parsed form is read-only. Bounded: a client inventing values only churns it.
const CACHE_SIZE = 64;
const cache = new Map<string, AcceptEncoding>();

/**
 * Parses the field value(s) of `Accept-Encoding`. Elements with an invalid or out-of-range `q`
 * are ignored (the rest of the field still counts). An empty value accepts no coding at all.
 *
 * @example
 * ```ts
 * const ae = parseAcceptEncoding('br;q=0.8, gzip, *;q=0');
 * acceptWeight(ae, 'gzip'); // 1
 * acceptWeight(ae, 'zstd'); // 0
 * ```
 */
export function parseAcceptEncoding(value: string): AcceptEncoding {
  let parsed = cache.get(value);
  if (parsed === undefined) {
    if (cache.size >= CACHE_SIZE) cache.clear();
    parsed = parse(value);
    cache.set(value, parsed);
  }
  return parsed;
}

function parse(value: string): AcceptEncoding {
  const codings = new Map<string, number>();
  let star: number | undefined;
  for (const element of value.split(',')) {
    const parts = element.split(';');
    let coding = parts[0]!.trim().toLowerCase();
    if (coding === '') continue;
    if (coding === 'x-gzip') coding = 'gzip';
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const param = parts[i]!.trim();
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const raw = param.slice(eq + 1).trim();
      q = QVALUE.test(raw) ? Number(raw) : Number.NaN;
    }
    if (Number.isNaN(q)) continue;
    if (coding === '*') star ??= q;
    else if (!codings.has(coding)) codings.set(coding, q);
  }
  return { codings, star };
}

/** The weight the client gives `coding`: its own entry, else `*`'s, else 0 (not acceptable). */
export function acceptWeight(accept: AcceptEncoding, coding: string): number {
  return accept.codings.get(coding) ?? accept.star ?? 0;
}

/**
 * The coding to compress with: among `candidates` (in server preference order) the one the client
 * weights highest, earlier candidates winning ties; `undefined` when none is acceptable, or when
 * the client named `identity` with a weight above every candidate's (it prefers the body as is).
 * An unnamed `identity` does not compete: a client listing `gzip;q=0.5` alone still gets gzip.
 */
export function chooseEncoding(
  accept: AcceptEncoding,
  candidates: readonly CompressionAlgorithm[],
): CompressionAlgorithm | undefined {
  let best: CompressionAlgorithm | undefined;
  let bestQ = 0;
  for (const c of candidates) {
    const q = acceptWeight(accept, c);
    if (q > bestQ) {
      best = c;
      bestQ = q;
    }
  }
  const identity = accept.codings.get('identity');
  if (best !== undefined && identity !== undefined && identity > bestQ) return undefined;
  return best;
}
