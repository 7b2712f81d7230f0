import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CacheStatus } from './cache-status.js';

describe('CacheStatus', () => {
  it('names and hit-ness match Pingora', () => {
    const all = [
      CacheStatus.Hit,
      CacheStatus.Miss,
      CacheStatus.Expired,
      CacheStatus.LockHit,
      CacheStatus.Stale(5),
    ];
    expect(all.map((s) => s.asStr())).toEqual(['hit', 'miss', 'expired', 'lock_hit', 'stale']);
    expect(all.map((s) => s.isHit())).toEqual([true, false, false, true, true]);
    expect(all.map((s) => s.stale())).toEqual([undefined, undefined, undefined, undefined, 5]);
    expect(`${CacheStatus.LockHit}`).toBe('lock_hit');
  });

  it('inspects as its constructor expression', () => {
    expect(inspect(CacheStatus.LockHit)).toBe('CacheStatus.LockHit');
    expect(inspect([1, CacheStatus.Stale(50)])).toBe('[ 1, CacheStatus.Stale(50) ]');
  });

  it('is immutable', () => {
    expect(Object.isFrozen(CacheStatus.Hit)).toBe(true);
    expect(Object.isFrozen(CacheStatus.Stale(1))).toBe(true);
  });
});
