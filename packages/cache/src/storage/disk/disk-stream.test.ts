import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPingoraError } from '@pingora-ts/error';
import { afterEach, describe, expect, it } from 'vitest';
import { type Meta, openDisk, readHit, testKey } from '../../../test/disk-support.js';
import { LruEvictionManager } from '../../eviction/lru.js';
import type { DiskStorage } from './disk.js';

const dirs: string[] = [];
const stores: DiskStorage<Meta>[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storage(root?: string, partialStaleMs?: number) {
  const dir = root ?? mkdtempSync(join(tmpdir(), 'pingora-disk-'));
  if (root === undefined) dirs.push(dir);
  const s = await openDisk(dir, new LruEvictionManager({ maxBytes: 1 << 24 }), undefined, { partialStaleMs });
  stores.push(s);
  return s;
}

const key = testKey('stream');
const meta: Meta = { status: 200, freshUntil: Date.now() + 60_000 };
const bytes = (s: string) => Buffer.from(s);
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function watch<T>(p: Promise<T>) {
  const state = { settled: false };
  const done = () => {
    state.settled = true;
  };
  p.then(done, done);
  return state;
}

describe('DiskStorage streaming partial writes', () => {
  it('a reader in this process started after the first chunk gets the whole body', async () => {
    const s = await storage();
    expect(s.supportStreamingPartialWrite()).toBe(true);
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('one '), false);
    const found = (await s.lookup(key))!;
    expect(found.meta).toEqual(meta);
    const whole = readHit(found.hit);
    await miss.writeBody(bytes('two '), false);
    await miss.writeBody(bytes('three'), true);
    await miss.finish();
    expect(await whole).toBe('one two three');
  });

  it('a reader that caught up waits for the next chunk, then for the end', async () => {
    const s = await storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('a'), false);
    const { hit } = (await s.lookup(key))!;
    expect(Buffer.from((await hit.readBody())!).toString()).toBe('a');
    const next = hit.readBody();
    const state = watch(next);
    for (let i = 0; i < 5; i++) await settle();
    expect(state.settled).toBe(false);
    await miss.writeBody(bytes('b'), false);
    expect(Buffer.from((await next)!).toString()).toBe('b');
    const end = hit.readBody();
    await miss.finish();
    expect(await end).toBeUndefined();
    await hit.finish();
  });

  it('a writer that aborts fails partial readers and leaves no file', async () => {
    const s = await storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('partial'), false);
    const { hit } = (await s.lookup(key))!;
    expect(Buffer.from((await hit.readBody())!).toString()).toBe('partial');
    const waiting = hit.readBody();
    miss.abort(new Error('upstream reset'));
    const error = await waiting.catch((e: unknown) => e);
    expect(isPingoraError(error)).toBe(true);
    expect(String(error)).toMatch(/write of this asset was aborted.*upstream reset/);
    expect(await s.lookup(key)).toBeUndefined();
    await expect(miss.finish()).rejects.toThrow(/aborted/);
    await hit.finish();
    const dir = join(s.fileOf(key), '..');
    for (let i = 0; i < 1000 && readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a purge during the write hides the asset, readers already reading get it all', async () => {
    const s = await storage();
    const miss = await s.getMissHandler(key, meta);
    await miss.writeBody(bytes('hello'), false);
    const whole = readHit((await s.lookup(key))!.hit);
    expect(await s.purge(key, 'Invalidation')).toBe(true);
    expect(await s.lookup(key)).toBeUndefined();
    await miss.writeBody(bytes(' world'), true);
    expect(await miss.finish()).toBe(11);
    expect(await whole).toBe('hello world');
    expect(await s.lookup(key)).toBeUndefined();
    expect(s.storedItems()).toBe(0);
  });

  it('another storage on the same directory (another process) tails the fill through .partial', async () => {
    const writer = await storage();
    const reader = await storage(writer.root);
    const miss = await writer.getMissHandler(key, meta);
    await miss.writeBody(bytes('first '), false);
    const found = (await reader.lookup(key))!;
    expect(found.meta).toEqual(meta);
    const whole = readHit(found.hit);
    await miss.writeBody(bytes('second '), false);
    await miss.writeBody(bytes('third'), true);
    await miss.finish();
    expect(await whole).toBe('first second third');
    expect(await readHit((await reader.lookup(key))!.hit)).toBe('first second third');
  });

  it('a reader of another process gives up on a fill whose writer stopped', async () => {
    const writer = await storage(undefined, 150);
    const reader = await storage(writer.root, 150);
    const miss = await writer.getMissHandler(key, meta);
    await miss.writeBody(bytes('stuck'), false);
    const { hit } = (await reader.lookup(key))!;
    expect(Buffer.from((await hit.readBody())!).toString()).toBe('stuck');
    // The writer never writes again: the reader sees no progress for partialStaleMs and fails.
    await expect(hit.readBody()).rejects.toThrow(/stopped \(no progress for 150 ms\)/);
    await hit.finish();
    miss.abort();
  });
});
