import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPingoraError } from '@pingora-ts/error';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageKey } from '../storage/storage.js';
import { LruEvictionManager } from './lru.js';
import { TinyUfoEvictionManager } from './tinyufo.js';

const k = (name: string | number): StorageKey => ({ hashKey: `hash-${name}`, userTag: 'tag' });
const until = 1_700_000_000_000;
const SEED = 0x5eed;

describe('TinyUfoEvictionManager', () => {
  it('keeps the total within maxBytes and reports every eviction', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 1000, estimatedItems: 100, seed: SEED });
    const evicted = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const key of ufo.admit(k(i), 10 + (i % 7), until)) evicted.add(key.hashKey);
      expect(ufo.totalSize()).toBeLessThanOrEqual(1000);
    }
    expect(evicted.size + ufo.totalItems()).toBe(500);
    expect(ufo.evictedItems()).toBe(evicted.size);
    for (let i = 0; i < 500; i++) expect(ufo.peek(k(i))).toBe(!evicted.has(k(i).hashKey));
    let sum = 0;
    for (let i = 0; i < 500; i++) if (ufo.peek(k(i))) sum += 10 + (i % 7);
    expect(ufo.totalSize()).toBe(sum);
    expect(ufo.evictedSize()).toBe(500 * 10 + [...Array(500).keys()].reduce((a, i) => a + (i % 7), 0) - sum);
  });

  it('a scan of one-hit keys does not flush the hot set (LRU does)', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 100, estimatedItems: 100, seed: SEED });
    const lru = new LruEvictionManager({ maxBytes: 100 });
    const hot = Array.from({ length: 20 }, (_, i) => k(`hot-${i}`));
    for (const m of [ufo, lru]) {
      for (const key of hot) m.admit(key, 1, until);
      for (let round = 0; round < 3; round++)
        for (const key of hot) expect(m.access(key, 1, until)).toBe(true);
      for (let i = 0; i < 1000; i++) m.admit(k(`scan-${i}`), 1, until);
    }
    expect(hot.filter((key) => ufo.peek(key))).toHaveLength(20);
    expect(hot.filter((key) => lru.peek(key))).toHaveLength(0);
    expect(ufo.totalSize()).toBeLessThanOrEqual(100);
  });

  it('TinyLFU refuses a newcomer less popular than its only victim', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 1, estimatedItems: 10, seed: SEED });
    for (let i = 0; i < 5; i++) expect(ufo.admit(k('popular'), 1, until)).toEqual([]);
    expect(ufo.admit(k('once'), 1, until)).toEqual([k('once')]);
    expect(ufo.peek(k('popular'))).toBe(true);
    expect(ufo.peek(k('once'))).toBe(false);
    expect(ufo.evictedItems()).toBe(1);
    expect(ufo.totalSize()).toBe(1);
  });

  it('remove deducts the size and frees the slot', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 10, estimatedItems: 10, seed: SEED });
    ufo.admit(k('a'), 4, until);
    ufo.admit(k('b'), 4, until);
    ufo.remove(k('a'));
    expect(ufo.peek(k('a'))).toBe(false);
    expect(ufo.totalSize()).toBe(4);
    expect(ufo.totalItems()).toBe(1);
    expect(ufo.evictedItems()).toBe(0);
    expect(ufo.admit(k('c'), 6, until)).toEqual([]);
  });

  it('re-admitting and incrementWeight change the tracked size', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 100, estimatedItems: 10, seed: SEED });
    ufo.admit(k('a'), 10, until);
    ufo.admit(k('a'), 30, until);
    expect(ufo.totalSize()).toBe(30);
    expect(ufo.totalItems()).toBe(1);
    ufo.incrementWeight(k('a'), 50, 60);
    expect(ufo.totalSize()).toBe(60);
    expect(ufo.incrementWeight(k('nope'), 5)).toEqual([]);
    expect(ufo.totalSize()).toBe(60);
  });

  it('an untracked key seen by access is tracked; its victims come out of the next admit', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 3, estimatedItems: 10, seed: SEED });
    for (const n of ['a', 'b', 'c']) ufo.admit(k(n), 1, until);
    expect(ufo.access(k('d'), 1, until)).toBe(false);
    expect(ufo.totalSize()).toBeLessThanOrEqual(3);
    const out = ufo.admit(k('e'), 1, until);
    const tracked = ['a', 'b', 'c', 'd', 'e'].filter((n) => ufo.peek(k(n)));
    // Every key is either still tracked or was handed out once: nothing leaks.
    expect(tracked.length + out.length).toBe(5);
    expect(ufo.totalSize()).toBe(tracked.length);
  });

  it('a victim of access that is admitted again is not handed out for eviction', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 3, estimatedItems: 10, seed: SEED });
    for (const n of ['a', 'b', 'c']) ufo.admit(k(n), 1, until);
    expect(ufo.access(k('d'), 1, until)).toBe(false);
    const victim = ['a', 'b', 'c', 'd'].find((n) => !ufo.peek(k(n)))!;
    expect(victim).toBeDefined();
    const out = ufo.admit(k(victim), 1, until);
    expect(out.map((key) => key.hashKey)).not.toContain(k(victim).hashKey);
    expect(ufo.peek(k(victim))).toBe(true);
  });

  it('zero-byte assets are tracked with weight one', () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 2, estimatedItems: 10, seed: SEED });
    ufo.admit(k('a'), 0, until);
    ufo.admit(k('b'), 0, until);
    expect(ufo.totalSize()).toBe(0);
    expect(ufo.totalItems()).toBe(2);
    expect(ufo.admit(k('c'), 0, until)).toHaveLength(1);
  });
});

describe('TinyUfoEvictionManager save/load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pingora-ufo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a reload restores the tracked assets and sizes', async () => {
    const ufo = new TinyUfoEvictionManager({ maxBytes: 1000, estimatedItems: 100, seed: SEED });
    for (let i = 0; i < 50; i++) ufo.admit(k(i), i + 1, until + i);
    const kept = Array.from({ length: 50 }, (_, i) => i).filter((i) => ufo.peek(k(i)));
    await ufo.save(dir);
    const again = new TinyUfoEvictionManager({ maxBytes: 1000, estimatedItems: 100, seed: SEED });
    await again.load(dir);
    expect(again.totalItems()).toBe(kept.length);
    expect(again.totalSize()).toBe(ufo.totalSize());
    for (const i of kept) expect(again.peek(k(i))).toBe(true);
  });

  it('a corrupt file is refused and leaves the manager empty', async () => {
    await writeFile(join(dir, 'tinyufo.eviction.json'), '{"version":1,"kind":"tinyufo","entries":[["x"]]}');
    const ufo = new TinyUfoEvictionManager({ maxBytes: 100, estimatedItems: 10, seed: SEED });
    ufo.admit(k('a'), 1, until);
    const error = await ufo.load(dir).catch((e: unknown) => e);
    expect(isPingoraError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/corrupt snapshot .*entry 0 is malformed/);
    expect(ufo.totalItems()).toBe(0);
    expect(ufo.peek(k('a'))).toBe(false);
  });
});
