import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROPORTIONAL_RATE_ESTIMATE_CALC_FN, Rate, type RateComponents } from './rate.js';

/** A clock the test moves by hand, in milliseconds. */
function fakeClock(start = 5_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

const rate9010 = (c: RateComponents) => (c.prevSamples * 0.1 + c.currSamples * 0.9) / (c.interval / 1000);

describe('Rate', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("Pingora's test_observe_rate (1 s interval)", () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    const key = 1;

    // second 0
    expect(r.observe(key, 3)).toBe(3);
    expect(r.observe(key, 2)).toBe(5);
    expect(r.rate(key)).toBe(0); // no completed interval yet

    // second 1
    clock.advance(1000);
    expect(r.observe(key, 4)).toBe(4);
    expect(r.rate(key)).toBe(5);

    // second 2
    clock.advance(1000);
    expect(r.rate(key)).toBe(4);

    // second 3
    clock.advance(1000);
    expect(r.rate(key)).toBe(0); // nothing observed in the last completed second
  });

  it("Pingora's test_observe_rate_custom_90_10", () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    const key = 1;

    expect(r.observe(key, 3)).toBe(3);
    expect(r.observe(key, 2)).toBe(5);
    expect(r.rateWith(key, rate9010)).toBe(5 * 0.9);

    clock.advance(1000);
    expect(r.observe(key, 4)).toBe(4);
    expect(r.rateWith(key, rate9010)).toBe(5 * 0.1 + 4 * 0.9);

    clock.advance(1000);
    expect(r.rateWith(key, rate9010)).toBe(4 * 0.1);

    clock.advance(1000);
    expect(r.rateWith(key, rate9010)).toBe(0);
  });

  it("Pingora's test_observe_rate_custom_proportional, exact with a fake clock", () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    const key = 1;
    const prop = (k: number) => r.rateWith(k, PROPORTIONAL_RATE_ESTIMATE_CALC_FN);

    expect(r.observe(key, 3)).toBe(3);
    expect(r.observe(key, 2)).toBe(5);
    expect(prop(key)).toBe(5);

    clock.advance(500); // 0.5 s
    expect(prop(key)).toBe(5);
    expect(r.rate(key)).toBe(0); // rate() reads only the completed window

    clock.advance(500); // 1 s
    expect(r.observe(key, 4)).toBe(4);
    expect(prop(key)).toBe(9);

    clock.advance(750); // 1.75 s
    expect(prop(key)).toBe(5 * 0.25 + 4);

    clock.advance(250); // 2 s
    expect(prop(key)).toBe(4);
    expect(r.rate(key)).toBe(4);

    clock.advance(500); // 2.5 s
    expect(prop(key)).toBe(4 / 2);
    expect(r.rate(key)).toBe(4);

    clock.advance(1000); // 3.5 s
    expect(prop(key)).toBe(0);
  });

  it('anchors windows at the last roll, not at multiples of the interval', () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    r.observe('k', 2); // window [0, 1000)
    clock.advance(1500);
    expect(r.observe('k', 7)).toBe(7); // rolls at 1500: window [1500, 2500)
    clock.advance(900); // 2400: still inside the window opened at 1500
    expect(r.rate('k')).toBe(2);
    expect(r.observe('k', 1)).toBe(8);
    clock.advance(100); // 2500: rolls
    expect(r.rate('k')).toBe(8);
  });

  it('reports the fraction of the current window and the interval to rateWith', () => {
    const clock = fakeClock();
    const r = new Rate(2000, { now: clock.now });
    r.observe('k', 6);
    clock.advance(500.9); // fractional ms are truncated, like Duration::as_millis
    const seen: RateComponents[] = [];
    r.rateWith('k', (c) => seen.push(c));
    expect(seen[0]).toEqual({
      prevSamples: 0,
      currSamples: 6,
      interval: 2000,
      currentIntervalFraction: 0.25,
    });
    expect(PROPORTIONAL_RATE_ESTIMATE_CALC_FN(seen[0]!)).toBe(3);
  });

  it('on a rolling call rateWith reports the closed window and an empty current one', () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    r.observe('k', 3);
    clock.advance(1250);
    expect(r.rateWith('k', (c) => c)).toEqual({
      prevSamples: 3,
      currSamples: 0,
      interval: 1000,
      currentIntervalFraction: 0.25,
    });
  });

  it('clears both windows after two idle intervals', () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    r.observe('k', 5);
    clock.advance(900);
    r.observe('k', 5);
    clock.advance(2100); // 3000 since the roll at 0: rolls and clears both windows
    expect(r.rate('k')).toBe(0);
    clock.advance(100); // inside the new window, the retired one must read as empty
    expect(r.rate('k')).toBe(0);
    expect(r.rateWith('k', (c) => c.prevSamples)).toBe(0);
    expect(r.observe('k', 1)).toBe(1);
    clock.advance(1000);
    expect(r.rate('k')).toBe(1);
  });

  it('shortcuts to zero without looking at the sketches after two intervals', () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    r.observe('k', 5);
    clock.advance(2000);
    expect(r.rateWith('k', (c) => [c.prevSamples, c.currSamples])).toEqual([0, 0]);
  });

  it('uses the estimator config it is given', () => {
    const clock = fakeClock();
    // One counter: every key lands on it.
    const r = Rate.withEstimatorConfig(1000, 1, 1, { now: clock.now });
    r.observe('a', 2);
    expect(r.observe('b', 3)).toBe(5);
    expect(r.interval).toBe(1000);
    const roomy = new Rate(1000, { hashes: 2, slots: 4096, now: clock.now });
    roomy.observe('a', 2);
    expect(roomy.observe('b', 3)).toBe(3);
  });

  it('reads performance.now() by default, at call time', () => {
    let t = 100;
    vi.spyOn(performance, 'now').mockImplementation(() => t);
    const r = new Rate(1000);
    r.observe('k', 4);
    t += 1000;
    expect(r.rate('k')).toBe(4);
  });

  it('treats a clock going backwards as no time passing', () => {
    const clock = fakeClock();
    const r = new Rate(1000, { now: clock.now });
    r.observe('k', 2);
    clock.advance(-5000);
    expect(r.observe('k', 1)).toBe(3);
    expect(r.rateWith('k', (c) => c.currentIntervalFraction)).toBe(0);
  });

  it('rejects a bad interval, clock or count', () => {
    expect(() => new Rate(0)).toThrow(RangeError);
    expect(() => new Rate(1.5)).toThrow(RangeError);
    expect(() => new Rate('1000' as unknown as number)).toThrow(TypeError);
    expect(() => new Rate(1000, { now: 5 as unknown as () => number })).toThrow(TypeError);
    expect(() => new Rate(1000, { slots: 0 })).toThrow(RangeError);
    expect(() => new Rate(1000).observe('k', 0.5)).toThrow(RangeError);
  });
});
