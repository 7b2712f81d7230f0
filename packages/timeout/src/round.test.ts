import { describe, expect, it } from 'vitest';
import { DEFAULT_RESOLUTION_MS, roundTo } from './round.js';

// Pingora's integer formula, kept verbatim as the oracle.
const pingoraRoundTo = (raw: number, resolution: number): number =>
  raw - 1 + resolution - ((raw - 1) % resolution);

describe('roundTo', () => {
  it('matches the reference vectors (128 → 130, 30 → 30)', () => {
    expect(roundTo(128, 10)).toBe(130);
    expect(roundTo(30, 10)).toBe(30);
    expect(roundTo(31)).toBe(40);
    expect(DEFAULT_RESOLUTION_MS).toBe(10);
  });

  it("equals Pingora's round_to for every positive integer tried", () => {
    for (const resolution of [1, 3, 10, 100, 499]) {
      for (let raw = 1; raw <= 20_000; raw++) {
        if (roundTo(raw, resolution) !== pingoraRoundTo(raw, resolution)) {
          expect.fail(`roundTo(${raw}, ${resolution}) = ${roundTo(raw, resolution)}`);
        }
      }
    }
  });

  it('rounds fractions up and keeps zero and negatives defined', () => {
    expect(roundTo(130.5, 10)).toBe(140);
    expect(roundTo(0.1, 10)).toBe(10);
    expect(roundTo(0, 10)).toBe(0);
    expect(roundTo(-15, 10)).toBe(-10);
  });
});
