import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { CacheMeta } from '../meta.js';
import {
  type CachePhase,
  cachePhaseAsStr,
  HitStatus,
  hitStatusAsStr,
  isFresh,
  isTreatedAsMiss,
  phaseUsedUpstream,
  RespCacheable,
} from './index.js';

const PHASES: readonly CachePhase[] = [
  'Disabled',
  'Uninit',
  'Bypass',
  'CacheKey',
  'Hit',
  'Miss',
  'Stale',
  'StaleUpdating',
  'Expired',
  'Revalidated',
  'RevalidatedNoCache',
];

describe('cache phases', () => {
  it("labels each phase as Pingora's as_str does", () => {
    expect(PHASES.map(cachePhaseAsStr)).toEqual([
      'disabled',
      'uninitialized',
      'bypass',
      'key',
      'hit',
      'miss',
      'stale',
      'stale-updating',
      'expired',
      'revalidated',
      'revalidated-nocache',
    ]);
  });

  it('says which phases went upstream', () => {
    expect(PHASES.filter(phaseUsedUpstream)).toEqual([
      'Disabled',
      'Bypass',
      'Miss',
      'Expired',
      'Revalidated',
      'RevalidatedNoCache',
    ]);
  });
});

describe('hit statuses', () => {
  const all = Object.values(HitStatus);

  it('are fresh only when Fresh or ForceFresh', () => {
    expect(all.filter(isFresh)).toEqual(['Fresh', 'ForceFresh']);
  });

  it('are misses only when forced or when the hit filter failed', () => {
    expect(all.filter(isTreatedAsMiss)).toEqual(['ForceMiss', 'FailedHitFilter']);
  });

  it('have snake_case labels', () => {
    expect(all.map(hitStatusAsStr)).toEqual([
      'expired',
      'force_expired',
      'force_miss',
      'failed_hit_filter',
      'fresh',
      'force_fresh',
    ]);
  });
});

describe('RespCacheable', () => {
  it('builds and tells apart both decisions', () => {
    const meta = new CacheMeta({
      freshUntil: 1,
      created: 0,
      staleWhileRevalidateSec: 0,
      staleIfErrorSec: 0,
      header: ResponseHeader.build(200),
    });
    const yes = RespCacheable.cacheable(meta);
    const no = RespCacheable.uncacheable({ custom: 'Sampling' });
    expect(RespCacheable.isCacheable(yes) && yes.meta).toBe(meta);
    expect(RespCacheable.isCacheable(no)).toBe(false);
    expect(no).toEqual({ kind: 'Uncacheable', reason: { custom: 'Sampling' } });
  });
});
