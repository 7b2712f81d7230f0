import { isPingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { MemoryStorage } from './memory.js';
import type { StorageKey } from './storage.js';
import { readAll } from '../../test/read-all.js';

const key: StorageKey = { hashKey: 'hash-stream', userTag: '' };
const meta = { status: 200 };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function storage() {
  return new MemoryStorage<typeof meta>({ eviction: new LruEvictionManager({ maxBytes: 1 << 20 }) });
}

/** Lets every ready microtask and I/O callback run; a promise still pending afterwards is truly waiting. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const state = { settled: false };
  p.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

describe('MemoryStorage streaming partial writes', () => {
  it('declares streaming partial write support', () => {
    expect(storage().supportStreamingPartialWrite()).toBe(true);
  });

  it('a reader started after the first chunk gets the whole body', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('one '), false);
    const found = await s.lookup(key);
    expect(found?.meta).toEqual(meta);
    const hit = found!.hit;
    const whole = readAll(hit);
    await miss.writeBody(bytes('two '), false);
    await miss.writeBody(bytes('three'), true);
    await miss.finish();
    expect(await whole).toBe('one two three');
  });

  it('a reader that caught up waits for the next chunk, then for the end', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('a'), false);
    const { hit } = (await s.lookup(key))!;
    expect(text((await hit.readBody())!)).toBe('a');
    const next = hit.readBody();
    const nextState = watch(next);
    await settle();
    expect(nextState.settled).toBe(false);
    await miss.writeBody(bytes('b'), false);
    expect(text((await next)!)).toBe('b');
    const end = hit.readBody();
    const endState = watch(end);
    await settle();
    expect(endState.settled).toBe(false);
    await miss.writeBody(new Uint8Array(0), true);
    expect(await end).toBeUndefined();
    await miss.finish();
    expect(await readAll((await s.lookup(key))!.hit)).toBe('ab');
  });

  it('several readers at different offsets all get the whole body', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    const early = readAll((await s.lookup(key))!.hit);
    await miss.writeBody(bytes('12'), false);
    const middle = readAll((await s.lookup(key))!.hit);
    await miss.writeBody(bytes('34'), false);
    await miss.writeBody(bytes('56'), true);
    const late = readAll((await s.lookup(key))!.hit);
    await miss.finish();
    expect(await Promise.all([early, middle, late])).toEqual(['123456', '123456', '123456']);
  });

  it('a writer that aborts makes partial readers fail with a clear error', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('partial'), false);
    const { hit } = (await s.lookup(key))!;
    expect(text((await hit.readBody())!)).toBe('partial');
    const waiting = hit.readBody();
    miss.abort(new Error('upstream reset'));
    const error = await waiting.catch((e: unknown) => e);
    expect(isPingoraError(error)).toBe(true);
    expect(String(error)).toMatch(/write of this asset was aborted.*upstream reset/);
    expect(await s.lookup(key)).toBeUndefined();
    expect(s.inflightSize()).toBe(0);
    await expect(miss.finish()).rejects.toThrow(/aborted/);
    await expect(miss.writeBody(bytes('more'), true)).rejects.toThrow(/aborted/);
  });

  it('a purge during the write hides the asset but not from readers already reading', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('hello'), false);
    const { hit } = (await s.lookup(key))!;
    const whole = readAll(hit);
    expect(await s.purge(key, 'Invalidation')).toBe(true);
    expect(await s.lookup(key)).toBeUndefined();
    await miss.writeBody(bytes(' world'), true);
    expect(await miss.finish()).toBe(11);
    expect(await whole).toBe('hello world');
    // The purge wins: the finished write is not stored.
    expect(await s.lookup(key)).toBeUndefined();
    expect(s.storedSize()).toBe(0);
    expect(s.inflightSize()).toBe(0);
  });

  it('a new write of a key is what lookups stream while it is in progress (it replaces the old asset)', async () => {
    const s = storage();
    const first = await s.getMissHandler(key, meta);
    await first.writeBody(bytes('v1'), true);
    await first.finish();
    const second = await s.getMissHandler(key, { status: 201 });
    await second.writeBody(bytes('v2-'), false);
    const during = (await s.lookup(key))!;
    expect(during.meta.status).toBe(201);
    const streamed = readAll(during.hit);
    await second.writeBody(bytes('partial'), true);
    await second.finish();
    expect(await streamed).toBe('v2-partial');
    const after = (await s.lookup(key))!;
    expect(after.meta.status).toBe(201);
    expect(await readAll(after.hit)).toBe('v2-partial');
  });

  it('seek on a partial body waits for the bytes it needs', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('0123'), false);
    const { hit } = (await s.lookup(key))!;
    hit.seek(6, 8);
    const range = readAll(hit);
    await miss.writeBody(bytes('4567'), false);
    await miss.writeBody(bytes('89'), true);
    await miss.finish();
    expect(await range).toBe('67');
    const short = (await s.lookup(key))!.hit;
    expect(() => short.seek(10)).toThrow(/out of range/);
  });

  it('a partial seek past where the body ends rejects once the body is complete', async () => {
    const s = storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('01'), false);
    const { hit } = (await s.lookup(key))!;
    hit.seek(5);
    const read = hit.readBody();
    await miss.writeBody(bytes('2'), true);
    await expect(read).rejects.toThrow(/seek start out of range 5 >= 3/);
    await miss.finish();
  });
});
