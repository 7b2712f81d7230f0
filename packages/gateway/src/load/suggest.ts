/**
 * "Did you mean": the known name a misspelt one most likely stands for. Used for unknown keys,
 * enum values and cluster names in the gateway file.
 */

/** Edit distance with transpositions (`pahtp` → `path` costs one swap, not two edits). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]!.push(d);
    }
  }
  return rows[a.length]![b.length]!;
}

/** `Path-Prefix`, `pathPrefix` and `path_prefix` are the same word spelt differently. */
function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate `word` was probably meant to be, or undefined when none is close enough.
 * Same word in another spelling (case, `-`/`_`, camelCase) wins, then a truncated name
 * (`grace_period` for `grace_period_seconds`), then the nearest by edit distance (at most a
 * quarter of the word or 2, and less than half of it, so `ketma` finds `ketama` but `h3` is not
 * taken for `h1`).
 *
 * @example
 * ```ts
 * suggestName('path_prefx', ['path', 'path_prefix', 'path_regex']); // 'path_prefix'
 * suggestName('zzz', ['path']); // undefined
 * ```
 */
export function suggestName(word: string, candidates: readonly string[]): string | undefined {
  const norm = normalize(word);
  const same = candidates.find((c) => normalize(c) === norm);
  if (same !== undefined) return same;
  if (norm.length >= 4) {
    const longer = candidates.filter((c) => normalize(c).startsWith(norm));
    if (longer.length === 1) return longer[0];
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const c of candidates) {
    const other = normalize(c);
    const d = distance(norm, other);
    // Two-letter words are all close to each other: also require most of the word to survive.
    if (d < bestDistance && d * 2 < Math.max(norm.length, other.length)) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or an empty string when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = suggestName(word, candidates);
  return hint === undefined ? '' : ` (did you mean "${hint}"?)`;
}
