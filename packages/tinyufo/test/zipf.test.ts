import { describe, expect, it } from 'vitest';
import { Rng, Zipf } from '../bench/zipf.js';

// The benchmark's sampler must draw from P(k) ∝ 1/k^s on 1..n, like Rust's `zipf` crate.
describe('Zipf sampler', () => {
  it.each([
    [10, 1.0],
    [100, 0.9],
    [10_000, 1.05],
    [10_000, 1.5],
  ])('n = %i, s = %f matches the exact distribution', (n, s) => {
    const draws = 400_000;
    const zipf = new Zipf(n, s, new Rng(7));
    const counts = new Float64Array(n + 1);
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const k = zipf.sample();
      if (Number.isInteger(k) && k >= 1 && k <= n) counts[k]!++;
      else outOfRange++;
    }
    expect(outOfRange).toBe(0);
    let norm = 0;
    for (let k = 1; k <= n; k++) norm += k ** -s;
    // Chi-square over ranks 1..20 plus one bin for the tail.
    const bins = Math.min(n, 20);
    let chi2 = 0;
    let tailObserved = draws;
    let tailExpected = draws;
    for (let k = 1; k <= bins; k++) {
      const expected = (draws * k ** -s) / norm;
      chi2 += (counts[k]! - expected) ** 2 / expected;
      tailObserved -= counts[k]!;
      tailExpected -= expected;
    }
    if (tailExpected > 1) chi2 += (tailObserved - tailExpected) ** 2 / tailExpected;
    // 21 degrees of freedom: the 99.9th percentile is about 46.8.
    expect(chi2).toBeLessThan(46.8);
  });

  it('is reproducible from its seed', () => {
    const a = new Zipf(1000, 1, new Rng(3));
    const b = new Zipf(1000, 1, new Rng(3));
    for (let i = 0; i < 100; i++) expect(a.sample()).toBe(b.sample());
  });
});
