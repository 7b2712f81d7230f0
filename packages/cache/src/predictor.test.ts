import { describe, expect, it } from 'vitest';
import { CacheKey } from './key.js';
import { NoCacheReason, noCacheReasonAsStr } from './no-cache-reason.js';
import { Predictor } from './predictor.js';

const primary = (ns: string, key: string, tag: string): string => new CacheKey(ns, key, tag).primaryHex();

describe('Predictor (Pingora predictor.rs cases)', () => {
  it('remembers only reasons about the asset, and forgets on markCacheable', () => {
    const predictor = new Predictor({ capacity: 10 });
    const key = primary('a', 'b', 'c');
    expect(predictor.cacheablePrediction(key)).toBe(true);

    // Internal and storage errors say nothing about the asset.
    expect(predictor.markUncacheable(key, NoCacheReason.InternalError)).toBeUndefined();
    expect(predictor.cacheablePrediction(key)).toBe(true);
    expect(predictor.markUncacheable(key, NoCacheReason.StorageError)).toBeUndefined();
    expect(predictor.cacheablePrediction(key)).toBe(true);

    // The origin said uncacheable.
    expect(predictor.markUncacheable(key, NoCacheReason.OriginNotCache)).toBe(true);
    expect(predictor.cacheablePrediction(key)).toBe(false);

    expect(predictor.markCacheable(key)).toBe(false);
    expect(predictor.cacheablePrediction(key)).toBe(true);
    expect(predictor.markCacheable(key)).toBe(true);
  });

  it('skips the custom reasons the predicate names and remembers the others', () => {
    const predictor = new Predictor({ capacity: 10, skipCustomReasons: (r) => r === 'Skipping' });
    const key = primary('a', 'b', 'c');
    expect(predictor.cacheablePrediction(key)).toBe(true);

    // The default skips still apply with a custom predicate.
    predictor.markUncacheable(key, NoCacheReason.InternalError);
    expect(predictor.cacheablePrediction(key)).toBe(true);

    expect(predictor.markUncacheable(key, NoCacheReason.Custom('DontCacheMe'))).toBe(true);
    expect(predictor.cacheablePrediction(key)).toBe(false);

    const other = primary('a', 'c', 'd');
    expect(predictor.cacheablePrediction(other)).toBe(true);
    expect(predictor.markUncacheable(other, NoCacheReason.Custom('Skipping'))).toBeUndefined();
    expect(predictor.cacheablePrediction(other)).toBe(true);
  });

  it('forgets the least recently marked key when full', () => {
    const predictor = new Predictor({ capacity: 3 });
    const key1 = primary('a', 'b', 'c');
    const key2 = primary('a', 'bc', 'c');
    const key3 = primary('a', 'cd', 'c');
    const key4 = primary('a', 'de', 'c');
    for (const key of [key1, key2, key3]) {
      expect(predictor.markUncacheable(key, NoCacheReason.OriginNotCache)).toBe(true);
      expect(predictor.cacheablePrediction(key)).toBe(false);
    }
    // Marking key1 again makes it the most recent, and reports it was already known.
    expect(predictor.markUncacheable(key1, NoCacheReason.OriginNotCache)).toBe(false);
    predictor.markUncacheable(key4, NoCacheReason.OriginNotCache);
    expect(predictor.cacheablePrediction(key4)).toBe(false);

    expect(predictor.cacheablePrediction(key1)).toBe(false);
    expect(predictor.cacheablePrediction(key2)).toBe(true); // evicted
    expect(predictor.cacheablePrediction(key3)).toBe(false);
    expect(predictor.size).toBe(3);
  });
});

describe('Predictor reasons', () => {
  const skipped = [
    'NeverEnabled',
    'StorageError',
    'InternalError',
    'Deferred',
    'CacheLockGiveUp',
    'CacheLockTimeout',
    'DeclinedToUpstream',
    'UpstreamError',
    'PredictedResponseTooLarge',
  ] as const;

  it.each(skipped)('does not remember %s by default', (reason) => {
    const predictor = new Predictor({ capacity: 4 });
    expect(predictor.markUncacheable('k', reason)).toBeUndefined();
    expect(predictor.cacheablePrediction('k')).toBe(true);
    expect(predictor.size).toBe(0);
  });

  it.each(['OriginNotCache', 'ResponseTooLarge'] as const)('remembers %s by default', (reason) => {
    const predictor = new Predictor({ capacity: 4 });
    expect(predictor.markUncacheable('k', reason)).toBe(true);
    expect(predictor.cacheablePrediction('k')).toBe(false);
  });

  it('remembers custom reasons when no predicate is given', () => {
    const predictor = new Predictor({ capacity: 4 });
    expect(predictor.markUncacheable('k', NoCacheReason.Custom('Anything'))).toBe(true);
    expect(predictor.cacheablePrediction('k')).toBe(false);
  });

  it('follows a configured set of reasons to remember', () => {
    const predictor = new Predictor({ capacity: 4, rememberReasons: ['OriginNotCache', 'UpstreamError'] });
    expect(predictor.markUncacheable('a', 'ResponseTooLarge')).toBeUndefined();
    expect(predictor.markUncacheable('b', 'UpstreamError')).toBe(true);
    expect(predictor.cacheablePrediction('a')).toBe(true);
    expect(predictor.cacheablePrediction('b')).toBe(false);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Predictor({ capacity: 0 })).toThrow(RangeError);
    expect(() => new Predictor({ capacity: 1.5 })).toThrow(RangeError);
    expect(new Predictor({ capacity: 7 }).capacity).toBe(7);
  });

  it('names reasons for logs', () => {
    expect(noCacheReasonAsStr(NoCacheReason.OriginNotCache)).toBe('OriginNotCache');
    expect(noCacheReasonAsStr(NoCacheReason.Custom('BotTraffic'))).toBe('BotTraffic');
  });
});
