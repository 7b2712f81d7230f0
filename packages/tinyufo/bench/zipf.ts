/**
 * Workload generators for the benchmarks: a seeded PRNG and a zipf sampler with the distribution of
 * Rust's `zipf` / `rand_distr::Zipf` (integers 1..n, P(k) ∝ 1/k^s), which Pingora's
 * `bench_hit_ratio` draws from. Sampling is rejection-inversion (Hörmann & Derflinger, 1996):
 * O(1) per draw with no table, for any s > 0.
 */

/** sfc32: a small, fast, seeded 32-bit generator; `next()` is a double in [0, 1) with 53 bits. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed | 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1). */
  next(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }
}

/** Draws integers in 1..n with probability proportional to 1/k^s. */
export class Zipf {
  private readonly oneMinusS: number;
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly shortcut: number;

  constructor(
    private readonly n: number,
    private readonly s: number,
    private readonly rng: Rng,
  ) {
    if (!(n >= 1) || !(s > 0)) throw new RangeError('Zipf needs n >= 1 and s > 0');
    this.oneMinusS = 1 - s;
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.shortcut = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** One draw. */
  sample(): number {
    for (;;) {
      // Invert the integral of the hat function h(x) = x^-s at a uniform point...
      const u = this.hIntegralN + this.rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      // ...and accept k when u falls under the bar of height h(k) centred on k.
      if (k - x <= this.shortcut || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  // ∫ h = (x^(1-s) - 1) / (1-s), written to stay accurate as s → 1 (where it tends to ln x).
  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return expm1OverX(this.oneMinusS * logX) * logX;
  }

  private hIntegralInverse(y: number): number {
    let t = y * this.oneMinusS;
    if (t < -1) t = -1; // rounding guard: the true value is never below -1
    return Math.exp(log1pOverX(t) * y);
  }
}

function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2 + (x * x) / 6;
}

function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2 + (x * x) / 3;
}
