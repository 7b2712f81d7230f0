import { isPingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { TinyUfoEvictionManager } from '../eviction/tinyufo.js';
import { MemoryStorage } from './memory.js';
import { ERR_RESPONSE_TOO_LARGE, type StorageKey } from './storage.js';
import { readAll } from '../../test/read-all.js';

interface Meta {
  status: number;
  freshUntil: number;
}

const k = (name: string): StorageKey => ({ hashKey: `hash-${name}`, userTag: 'u' });
const meta: Meta = { status: 200, freshUntil: 1_700_000_000_000 };
const bytes = (s: string) => new TextEncoder().encode(s);
const _text = (b: Uint8Array) => new TextDecoder().decode(b);

function storage(maxBytes = 1 << 20, maxFileSize?: number) {
  const eviction = new LruEvictionManager({ maxBytes });
  const s = new MemoryStorage<Meta>({
    eviction,
    maxFileSize,
    metaSize: () => 10,
    freshUntil: (m) => m.freshUntil,
  });
  return { s, eviction };
}

async function put(s: MemoryStorage<Meta>, key: StorageKey, body: string, m: Meta = meta): Promise<number> {
  const miss = await s.getMissHandler(key, m);
  await miss.writeBody(bytes(body), true);
  return miss.finish();
}

describe('MemoryStorage', () => {
  it('misses, then hits with the stored meta and body', async () => {
    const { s } = storage();
    expect(await s.lookup(k('a'))).toBeUndefined();
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(bytes('hello '), false);
    await miss.writeBody(bytes('world'), true);
    expect(await miss.finish()).toBe(11);
    const found = await s.lookup(k('a'));
    expect(found?.meta).toEqual(meta);
    expect(await readAll(found!.hit)).toBe('hello world');
    await found!.hit.finish();
    await expect(found!.hit.readBody()).rejects.toThrow(/after the hit finished/);
  });

  it('copies written chunks so the writer may reuse its buffer', async () => {
    const { s } = storage();
    const miss = await s.getMissHandler(k('a'), meta);
    const buf = bytes('abc');
    await miss.writeBody(buf, true);
    buf.fill(0);
    await miss.finish();
    expect(await readAll((await s.lookup(k('a')))!.hit)).toBe('abc');
  });

  it('seek reads ranges and rejects a start past the end', async () => {
    const { s } = storage();
    await put(s, k('a'), '0123456789');
    const { hit } = (await s.lookup(k('a')))!;
    expect(hit.canSeek()).toBe(true);
    expect(() => hit.seek(10000)).toThrow(/seek start out of range 10000 >= 10/);
    expect(() => hit.seek(10)).toThrow(/out of range/);
    hit.seek(5);
    expect(await readAll(hit)).toBe('56789');
    hit.seek(4, 5);
    expect(await readAll(hit)).toBe('4');
    hit.seek(0, 3);
    expect(await readAll(hit)).toBe('012');
  });

  it('seek spans several written chunks', async () => {
    const { s } = storage();
    const miss = await s.getMissHandler(k('a'), meta);
    for (const part of ['ab', 'cd', 'ef', 'gh']) await miss.writeBody(bytes(part), false);
    await miss.finish();
    const { hit } = (await s.lookup(k('a')))!;
    hit.seek(3, 7);
    expect(await readAll(hit)).toBe('defg');
  });

  it('purge removes the asset and tells the eviction manager', async () => {
    const { s, eviction } = storage();
    await put(s, k('a'), 'body');
    expect(eviction.peek(k('a'))).toBe(true);
    expect(await s.purge(k('a'), 'Invalidation')).toBe(true);
    expect(await s.lookup(k('a'))).toBeUndefined();
    expect(eviction.peek(k('a'))).toBe(false);
    expect(s.storedSize()).toBe(0);
    expect(await s.purge(k('a'), 'Invalidation')).toBe(false);
  });

  it('a read in progress survives a purge and a replacement', async () => {
    const { s } = storage();
    await put(s, k('a'), 'old body');
    const { hit } = (await s.lookup(k('a')))!;
    hit.seek(0, 4);
    expect(await readAll(hit)).toBe('old ');
    await s.purge(k('a'), 'Invalidation');
    await put(s, k('a'), 'NEW BODY!');
    hit.seek(4);
    expect(await readAll(hit)).toBe('body');
    expect(await readAll((await s.lookup(k('a')))!.hit)).toBe('NEW BODY!');
  });

  it('updateMeta replaces the meta of a stored asset only', async () => {
    const { s } = storage();
    expect(await s.updateMeta(k('a'), meta)).toBe(false);
    await put(s, k('a'), 'x');
    const before = (await s.lookup(k('a')))!;
    expect(await s.updateMeta(k('a'), { status: 304, freshUntil: 5 })).toBe(true);
    expect((await s.lookup(k('a')))!.meta.status).toBe(304);
    expect(before.meta.status).toBe(200);
  });

  it('accounts body bytes plus the meta estimate, in sync with the manager', async () => {
    const { s, eviction } = storage();
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(bytes('12345'), false);
    expect(s.inflightSize()).toBe(5);
    expect(s.storedSize()).toBe(0);
    await miss.writeBody(bytes('678'), true);
    await miss.finish();
    expect(s.inflightSize()).toBe(0);
    expect(s.storedSize()).toBe(8 + 10);
    expect(eviction.totalSize()).toBe(18);
    await put(s, k('a'), '1');
    expect(s.storedSize()).toBe(11);
    expect(eviction.totalSize()).toBe(11);
  });

  it('stays within the manager budget, evicting least recently used assets', async () => {
    const { s, eviction } = storage(100);
    for (const n of ['a', 'b', 'c']) await put(s, k(n), 'x'.repeat(20)); // 30 bytes each
    await s.lookup(k('a'));
    await put(s, k('d'), 'x'.repeat(20));
    expect(await s.lookup(k('b'))).toBeUndefined();
    expect(await s.lookup(k('a'))).toBeDefined();
    expect(s.storedItems()).toBe(3);
    expect(s.storedSize()).toBe(90);
    expect(eviction.totalSize()).toBe(90);
    expect(eviction.evictedItems()).toBe(1);
  });

  it('an asset the manager refuses is not kept', async () => {
    const { s, eviction } = storage(50);
    await put(s, k('small'), 'x'.repeat(10));
    expect(await put(s, k('big'), 'x'.repeat(100))).toBe(100);
    expect(await s.lookup(k('big'))).toBeUndefined();
    expect(s.storedSize()).toBe(eviction.totalSize());
  });

  it('stays in sync with a TinyUFO manager through admissions, refusals and hits', async () => {
    const eviction = new TinyUfoEvictionManager({ maxBytes: 500, estimatedItems: 50, seed: 7 });
    const s = new MemoryStorage<Meta>({ eviction, metaSize: () => 10 });
    for (let i = 0; i < 300; i++) {
      await put(s, k(`n${i % 60}`), 'x'.repeat(i % 13));
      if (i % 3 === 0) await s.lookup(k(`n${i % 7}`));
      expect(s.storedSize()).toBe(eviction.totalSize());
      expect(s.storedItems()).toBe(eviction.totalItems());
      expect(s.storedSize()).toBeLessThanOrEqual(500);
    }
    expect(eviction.evictedItems()).toBeGreaterThan(0);
    for (let i = 0; i < 60; i++) {
      expect((await s.lookup(k(`n${i}`))) !== undefined).toBe(eviction.peek(k(`n${i}`)));
    }
  });

  it('a body over maxFileSize fails with ResponseTooLarge and is discarded', async () => {
    const { s, eviction } = storage(1 << 20, 8);
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(bytes('12345'), false);
    const partial = (await s.lookup(k('a')))!.hit;
    const error = await miss.writeBody(bytes('6789'), true).catch((e: unknown) => e);
    expect(isPingoraError(error) && error.type.equals(ERR_RESPONSE_TOO_LARGE)).toBe(true);
    expect(String(error)).toMatch(/max file size of 8 bytes/);
    expect(await s.lookup(k('a'))).toBeUndefined();
    expect(s.inflightSize()).toBe(0);
    await expect(miss.finish()).rejects.toThrow(/ResponseTooLarge/);
    expect(await s.lookup(k('a'))).toBeUndefined();
    expect(eviction.totalItems()).toBe(0);
    expect(await partial.readBody()).toEqual(bytes('12345'));
    await expect(partial.readBody()).rejects.toThrow(/ResponseTooLarge/);
  });

  it('a body of exactly maxFileSize is stored', async () => {
    const { s } = storage(1 << 20, 8);
    expect(await put(s, k('a'), '12345678')).toBe(8);
    expect(await readAll((await s.lookup(k('a')))!.hit)).toBe('12345678');
  });
});
