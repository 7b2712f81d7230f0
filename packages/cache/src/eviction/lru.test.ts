import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPingoraError } from '@pingora-ts/error';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageKey } from '../storage/storage.js';
import { LruEvictionManager } from './lru.js';

const k = (name: string): StorageKey => ({ hashKey: `hash-${name}`, userTag: '' });
const until = 1_700_000_000_000;
const names = (keys: StorageKey[]) => keys.map((key) => key.hashKey.slice(5));

/** a:1, b:2, c:1 in a manager of 4 bytes: full. */
function full(): LruEvictionManager {
  const lru = new LruEvictionManager({ maxBytes: 4 });
  expect(lru.admit(k('a'), 1, until)).toEqual([]);
  expect(lru.admit(k('b'), 2, until)).toEqual([]);
  expect(lru.admit(k('c'), 1, until)).toEqual([]);
  return lru;
}

describe('LruEvictionManager', () => {
  it('evicts the least recently admitted until the new one fits', () => {
    const lru = full();
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['a', 'b']);
    expect(lru.totalSize()).toBe(3);
    expect(lru.totalItems()).toBe(2);
    expect(lru.evictedSize()).toBe(3);
    expect(lru.evictedItems()).toBe(2);
  });

  it('access makes an item the most recently used', () => {
    const lru = full();
    expect(lru.access(k('a'), 1, until)).toBe(true);
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['b']);
  });

  it('remove deducts the size without counting an eviction', () => {
    const lru = full();
    lru.remove(k('a'));
    expect(lru.totalSize()).toBe(3);
    expect(lru.evictedItems()).toBe(0);
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['b']);
  });

  it('access of an unknown key tracks it without evicting', () => {
    const lru = new LruEvictionManager({ maxBytes: 4 });
    expect(lru.access(k('a'), 1, until)).toBe(false);
    expect(lru.access(k('b'), 2, until)).toBe(false);
    expect(lru.access(k('c'), 2, until)).toBe(false);
    expect(lru.totalSize()).toBe(5);
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['a', 'b']);
  });

  it('re-admitting updates the size in place', () => {
    const lru = full();
    expect(lru.admit(k('b'), 1, until)).toEqual([]);
    expect(lru.admit(k('d'), 1, until)).toEqual([]);
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['a']);
  });

  it('evicts by item count with maxItems', () => {
    const lru = new LruEvictionManager({ maxBytes: Number.MAX_SAFE_INTEGER, maxItems: 4 });
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) lru.admit(k(n), 1, until);
    expect(lru.totalItems()).toBe(4);
    expect(lru.evictedItems()).toBe(2);
    expect(lru.evictedSize()).toBe(2);
    expect(lru.peek(k('a'))).toBe(false);
    expect(lru.peek(k('c'))).toBe(true);
  });

  it('an item larger than the budget evicts itself', () => {
    const lru = full();
    expect(names(lru.admit(k('huge'), 5, until))).toEqual(['a', 'b', 'c', 'huge']);
    expect(lru.totalSize()).toBe(0);
  });

  it('incrementWeight grows an item, capped by maxWeight, and evicts', () => {
    const lru = full();
    expect(names(lru.incrementWeight(k('c'), 1))).toEqual(['a']);
    expect(lru.totalSize()).toBe(4);
    expect(lru.incrementWeight(k('c'), 10, 2)).toEqual([]);
    expect(lru.totalSize()).toBe(4);
    expect(lru.incrementWeight(k('zzz'), 10)).toEqual([]);
    expect(lru.totalSize()).toBe(4);
  });

  it('peek does not promote', () => {
    const lru = full();
    expect(lru.peek(k('a'))).toBe(true);
    expect(names(lru.admit(k('d'), 2, until))).toEqual(['a', 'b']);
  });

  it('rejects invalid sizes', () => {
    const lru = new LruEvictionManager({ maxBytes: 4 });
    expect(() => lru.admit(k('a'), -1, until)).toThrow(RangeError);
    expect(() => lru.admit(k('a'), 1.5, until)).toThrow(RangeError);
  });
});

describe('LruEvictionManager save/load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pingora-lru-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a reload keeps the eviction order, sizes and tags', async () => {
    const lru = full();
    lru.access(k('a'), 1, until);
    await lru.save(dir);
    const lru2 = new LruEvictionManager({ maxBytes: 4 });
    await lru2.load(dir);
    expect(lru2.totalSize()).toBe(4);
    expect(lru2.totalItems()).toBe(3);
    expect(names(lru2.admit(k('d'), 2, until))).toEqual(['b']);
    expect(names(lru2.admit(k('e'), 2, until))).toEqual(['c', 'a']);
  });

  it('a smaller budget on reload keeps the most recent items', async () => {
    const lru = full();
    await lru.save(dir);
    const small = new LruEvictionManager({ maxBytes: 2 });
    await small.load(dir);
    expect(small.peek(k('a'))).toBe(false);
    expect(small.peek(k('b'))).toBe(false);
    expect(small.peek(k('c'))).toBe(true);
  });

  it.each([
    ['not JSON', '{oops', /not valid JSON/],
    ['another version', '{"version":99,"kind":"lru","entries":[]}', /unsupported version 99/],
    ['another kind', '{"version":1,"kind":"tinyufo","entries":[]}', /"tinyufo" manager/],
    ['a bad entry', '{"version":1,"kind":"lru","entries":[["h","",-1,0]]}', /entry 0 is malformed/],
  ])('a file with %s is refused and leaves the manager empty', async (_what, text, message) => {
    await writeFile(join(dir, 'lru.eviction.json'), text);
    const lru = full();
    const error = await lru.load(dir).catch((e: unknown) => e);
    expect(isPingoraError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(message);
    expect(lru.totalItems()).toBe(0);
    expect(lru.totalSize()).toBe(0);
    expect(lru.peek(k('a'))).toBe(false);
  });

  it('a missing file rejects with a FileReadError', async () => {
    const lru = new LruEvictionManager({ maxBytes: 4 });
    const error = await lru.load(join(dir, 'nothing')).catch((e: unknown) => e);
    expect(isPingoraError(error) && error.type.name).toBe('FileReadError');
  });
});
