import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { CacheKey } from './key.js';
import { CacheMeta } from './meta.js';
import { type PurgeStatus, isPurgeMethod, purgeResponse, purgeStatusCode } from './purge.js';
import { MemoryStorage } from './storage/memory.js';
import { LruEvictionManager } from './eviction/lru.js';

describe('purge responses', () => {
  const expected: [PurgeStatus, number][] = [
    ['Found', 200],
    ['NotFound', 404],
    ['NoCache', 405],
    ['Error', 500],
  ];

  it('maps each status to its code', () => {
    for (const [status, code] of expected) expect(purgeStatusCode(status)).toBe(code);
  });

  it('builds an empty, uncacheable response per status', () => {
    for (const [status, code] of expected) {
      const resp = purgeResponse(status);
      expect(resp.status).toBe(code);
      expect(resp.headers.getAll('content-length')).toEqual(['0']);
      expect(resp.headers.getAll('cache-control')).toEqual(['private, no-store']);
    }
  });

  it('returns a new header each time, so a filter may change one', () => {
    const a = purgeResponse('Found');
    a.insertHeader('X-Purged', '1');
    expect(purgeResponse('Found').headers.has('x-purged')).toBe(false);
  });
});

describe('isPurgeMethod', () => {
  it('accepts PURGE only, case-sensitively', () => {
    expect(isPurgeMethod(RequestHeader.build('PURGE', '/a'))).toBe(true);
    expect(isPurgeMethod(RequestHeader.build('purge', '/a'))).toBe(false);
    expect(isPurgeMethod(RequestHeader.build('GET', '/a'))).toBe(false);
  });
});

describe('purge against a real storage', () => {
  it('answers 200 when the asset was there and 404 the second time', async () => {
    const storage = new MemoryStorage<CacheMeta>({
      eviction: new LruEvictionManager({ maxBytes: 1 << 20 }),
      freshUntil: (m) => m.freshUntil,
    });
    const req = RequestHeader.build('PURGE', '/a');
    req.insertHeader('Host', 'example.com');
    const key = CacheKey.default(req).toCompact();
    const now = Date.now();
    const header = ResponseHeader.build(200);
    header.insertHeader('Content-Length', 3);
    const meta = new CacheMeta({
      freshUntil: now + 60_000,
      created: now,
      staleWhileRevalidateSec: 0,
      staleIfErrorSec: 0,
      header,
    });
    const miss = await storage.getMissHandler(key, meta);
    await miss.writeBody(new Uint8Array([1, 2, 3]), true);
    await miss.finish();

    expect(isPurgeMethod(req)).toBe(true);
    const first = (await storage.purge(key, 'Invalidation')) ? 'Found' : 'NotFound';
    const second = (await storage.purge(key, 'Invalidation')) ? 'Found' : 'NotFound';
    expect(purgeResponse(first).status).toBe(200);
    expect(purgeResponse(second).status).toBe(404);
  });
});
