import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPingoraError } from '@pingora-ts/error';
import { afterEach, describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../../eviction/lru.js';
import { ERR_RESPONSE_TOO_LARGE, type StorageKey } from '../storage.js';
import type { DiskStorage } from './disk.js';
import { type Meta, openDisk, put, readHit, testKey as k } from '../../../test/disk-support.js';

const dirs: string[] = [];
const stores: DiskStorage<Meta>[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-disk-'));
  dirs.push(dir);
  return dir;
}

async function storage(root = tempRoot(), maxBytes = 1 << 24, maxFileSize?: number) {
  const s = await openDisk(root, new LruEvictionManager({ maxBytes }), maxFileSize);
  stores.push(s);
  return s;
}

const meta: Meta = { status: 200, freshUntil: Date.now() + 60_000 };

describe('DiskStorage', () => {
  it('misses, then hits with the stored meta and body, in nginx-style level directories', async () => {
    const s = await storage();
    expect(await s.lookup(k('a'))).toBeUndefined();
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(Buffer.from('hello '), false);
    await miss.writeBody(Buffer.from('world'), true);
    expect(await miss.finish()).toBe(11);
    const file = s.fileOf(k('a'));
    const name = k('a').hashKey;
    expect(file).toBe(join(s.root, name.slice(-1), name.slice(-3, -1), name));
    expect(existsSync(file)).toBe(true);
    const found = await s.lookup(k('a'));
    expect(found?.meta).toEqual(meta);
    expect(await readHit(found!.hit)).toBe('hello world');
    await found!.hit.finish();
    await expect(found!.hit.readBody()).rejects.toThrow(/after the hit finished/);
    // Nothing but the asset is left in its directory.
    expect(readdirSync(join(s.root, name.slice(-1), name.slice(-3, -1)))).toEqual([name]);
  });

  it('reads a body larger than one read, and seeks in it', async () => {
    const s = await storage();
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const miss = await s.getMissHandler(k('big'), meta);
    for (let at = 0; at < body.length; at += 30_000)
      await miss.writeBody(body.subarray(at, at + 30_000), false);
    await miss.finish();
    const { hit } = (await s.lookup(k('big')))!;
    const chunks: Buffer[] = [];
    for (let c = await hit.readBody(); c; c = await hit.readBody()) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    hit.seek(150_000, 150_010);
    expect(Buffer.from((await hit.readBody())!)).toEqual(body.subarray(150_000, 150_010));
    expect(await hit.readBody()).toBeUndefined();
    expect(() => hit.seek(200_000)).toThrow(/out of range 200000 >= 200000/);
    await hit.finish();
  });

  it('purge removes the file and tells the eviction manager', async () => {
    const s = await storage();
    await put(s, k('a'), 'body', meta);
    expect(s.evictionManager.peek(k('a'))).toBe(true);
    expect(await s.purge(k('a'), 'Invalidation')).toBe(true);
    expect(existsSync(s.fileOf(k('a')))).toBe(false);
    expect(await s.lookup(k('a'))).toBeUndefined();
    expect(s.evictionManager.peek(k('a'))).toBe(false);
    expect(await s.purge(k('a'), 'Invalidation')).toBe(false);
  });

  it('a read in progress survives a purge and a replacement', async () => {
    const s = await storage();
    await put(s, k('a'), 'old body', meta);
    const { hit } = (await s.lookup(k('a')))!;
    await s.purge(k('a'), 'Invalidation');
    await put(s, k('a'), 'NEW BODY!', meta);
    expect(await readHit(hit)).toBe('old body');
    expect(await readHit((await s.lookup(k('a')))!.hit)).toBe('NEW BODY!');
  });

  it('updateMeta rewrites the meta and keeps the body', async () => {
    const s = await storage();
    expect(await s.updateMeta(k('a'), meta)).toBe(false);
    await put(s, k('a'), 'x'.repeat(40_000), meta);
    const newer = { status: 304, freshUntil: meta.freshUntil + 1000, note: 'n'.repeat(500) };
    expect(await s.updateMeta(k('a'), newer)).toBe(true);
    const found = (await s.lookup(k('a')))!;
    expect(found.meta).toEqual(newer);
    expect(await readHit(found.hit)).toBe('x'.repeat(40_000));
    expect(s.storedSize()).toBe(s.evictionManager.totalSize());
  });

  it('updateMeta during a write is stored when the write finishes', async () => {
    const s = await storage();
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(Buffer.from('body'), false);
    const newer = { status: 203, freshUntil: meta.freshUntil, note: 'longer than before' };
    expect(await s.updateMeta(k('a'), newer)).toBe(true);
    expect((await s.lookup(k('a')))?.meta).toEqual(newer);
    await miss.finish();
    const found = (await s.lookup(k('a')))!;
    expect(found.meta).toEqual(newer);
    expect(await readHit(found.hit)).toBe('body');
    expect(s.storedSize()).toBe(s.evictionManager.totalSize());
  });

  it('an abort after finish leaves the stored asset alone', async () => {
    const s = await storage();
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(Buffer.from('kept'), true);
    await miss.finish();
    miss.abort(new Error('late'));
    expect(await readHit((await s.lookup(k('a')))!.hit)).toBe('kept');
    expect(existsSync(s.fileOf(k('a')))).toBe(true);
  });

  it('writes again after its level directory was removed by hand', async () => {
    const s = await storage();
    await put(s, k('a'), 'one', meta);
    rmSync(join(s.fileOf(k('a')), '..'), { recursive: true });
    expect(await s.lookup(k('a'))).toBeUndefined();
    await put(s, k('a'), 'two', meta);
    expect(await readHit((await s.lookup(k('a')))!.hit)).toBe('two');
  });

  it('a body over maxFileSize fails with ResponseTooLarge and leaves no file', async () => {
    const s = await storage(undefined, 1 << 20, 8);
    const miss = await s.getMissHandler(k('a'), meta);
    await miss.writeBody(Buffer.from('12345'), false);
    const error = await miss.writeBody(Buffer.from('6789'), true).catch((e: unknown) => e);
    expect(isPingoraError(error) && error.type.equals(ERR_RESPONSE_TOO_LARGE)).toBe(true);
    await expect(miss.finish()).rejects.toThrow(/ResponseTooLarge/);
    expect(await s.lookup(k('a'))).toBeUndefined();
    expect(s.storedItems()).toBe(0);
    const dir = join(s.fileOf(k('a')), '..');
    await waitUntil(() => readdirSync(dir).length === 0);
  });

  it('keeps variants apart: each variance has its own file', async () => {
    const s = await storage();
    const gzip: StorageKey = {
      hashKey: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1',
      userTag: '',
    };
    const br: StorageKey = {
      hashKey: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2',
      userTag: '',
    };
    await put(s, gzip, 'gzip body', meta);
    await put(s, br, 'br body', meta);
    expect(await readHit((await s.lookup(gzip))!.hit)).toBe('gzip body');
    expect(await readHit((await s.lookup(br))!.hit)).toBe('br body');
    await s.purge(gzip, 'Invalidation');
    expect(await s.lookup(gzip)).toBeUndefined();
    expect(await readHit((await s.lookup(br))!.hit)).toBe('br body');
  });

  it('a key that is not a safe file name is stored under its SHA-256', async () => {
    const s = await storage();
    const odd: StorageKey = { hashKey: '../../etc/passwd', userTag: 'tag' };
    await put(s, odd, 'safe', meta);
    expect(s.fileOf(odd).startsWith(s.root)).toBe(true);
    expect(s.fileOf(odd)).toMatch(/[0-9a-f]{64}$/);
    expect(await readHit((await s.lookup(odd))!.hit)).toBe('safe');
  });

  it('rejects bad options with clear errors', async () => {
    await expect(
      openDisk(tempRoot(), new LruEvictionManager({ maxBytes: 1 }), undefined, { levels: '3:1' }),
    ).rejects.toThrow(/levels must be up to three of 1 or 2/);
    await expect(openDisk('', new LruEvictionManager({ maxBytes: 1 }))).rejects.toThrow(/root must be/);
    await expect(
      openDisk(tempRoot(), new LruEvictionManager({ maxBytes: 1 }), undefined, { partialStaleMs: 0 }),
    ).rejects.toThrow(/partialStaleMs must be a positive/);
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}
