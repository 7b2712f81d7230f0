import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Meta, openDisk, put, readHit, testKey as k } from '../../../test/disk-support.js';
import { LruEvictionManager } from '../../eviction/lru.js';
import type { DiskStorage } from './disk.js';

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

const meta: Meta = { status: 200, freshUntil: 1_900_000_000_000 };

async function open(root: string, maxBytes: number) {
  const eviction = new LruEvictionManager({ maxBytes });
  const s = await openDisk(root, eviction);
  stores.push(s);
  return { s, eviction };
}

/** Bytes one asset of `body` takes on disk (header + key + meta + body). */
async function assetSize(body: string): Promise<number> {
  const { s } = await open(tempRoot(), 1 << 20);
  await put(s, k('probe'), body, meta);
  return s.storedSize();
}

describe('DiskStorage size cap and restarts', () => {
  it('evicts the least recently used asset past the budget and removes its file', async () => {
    const size = await assetSize('x'.repeat(100));
    const { s, eviction } = await open(tempRoot(), size * 3);
    for (const n of ['a', 'b', 'c']) await put(s, k(n), 'x'.repeat(100), meta);
    await s.lookup(k('a'));
    await put(s, k('d'), 'x'.repeat(100), meta);
    expect(existsSync(s.fileOf(k('b')))).toBe(false);
    expect(await s.lookup(k('b'))).toBeUndefined();
    for (const n of ['a', 'c', 'd']) expect(existsSync(s.fileOf(k(n)))).toBe(true);
    expect(s.storedSize()).toBe(size * 3);
    expect(eviction.evictedItems()).toBe(1);
  });

  it('the eviction state survives a restart: same assets, same order', async () => {
    const size = await assetSize('x'.repeat(100));
    const root = tempRoot();
    const first = await open(root, size * 3);
    for (const n of ['a', 'b', 'c']) await put(first.s, k(n), 'x'.repeat(100), meta);
    await first.s.lookup(k('a')); // order, oldest first: b, c, a
    await first.s.close();
    expect(existsSync(join(root, 'state', 'lru.eviction.json'))).toBe(true);

    const second = await open(root, size * 3);
    expect(second.s.storedItems()).toBe(3);
    expect(second.s.storedSize()).toBe(size * 3);
    await put(second.s, k('d'), 'x'.repeat(100), meta);
    expect(await second.s.lookup(k('b'))).toBeUndefined();
    expect(existsSync(second.s.fileOf(k('b')))).toBe(false);
    expect(await readHit((await second.s.lookup(k('a')))!.hit)).toBe('x'.repeat(100));
    await put(second.s, k('e'), 'x'.repeat(100), meta);
    expect(existsSync(second.s.fileOf(k('c')))).toBe(false);
  });

  it('without saved state the files are scanned and admitted, the excess removed', async () => {
    const size = await assetSize('x'.repeat(100));
    const root = tempRoot();
    const first = await open(root, 1 << 20);
    for (const n of ['a', 'b', 'c', 'd']) await put(first.s, k(n), 'x'.repeat(100), meta);
    stores.pop(); // never closed: no state saved, as after a crash
    const second = await open(root, size * 2);
    expect(second.s.storedItems()).toBe(2);
    const left = ['a', 'b', 'c', 'd'].filter((n) => existsSync(second.s.fileOf(k(n))));
    expect(left).toHaveLength(2);
    for (const n of left) expect(await readHit((await second.s.lookup(k(n)))!.hit)).toBe('x'.repeat(100));
  });

  it('forgets saved entries whose file was removed while it was down', async () => {
    const root = tempRoot();
    const first = await open(root, 1 << 20);
    for (const n of ['a', 'b']) await put(first.s, k(n), 'body', meta);
    await first.s.close();
    unlinkSync(first.s.fileOf(k('a')));
    const second = await open(root, 1 << 20);
    expect(second.s.storedItems()).toBe(1);
    expect(second.eviction.peek(k('a'))).toBe(false);
    expect(second.eviction.peek(k('b'))).toBe(true);
  });

  it('cleans what dead writers left and keeps what live ones write', async () => {
    const root = tempRoot();
    const { s } = await open(root, 1 << 20);
    const file = s.fileOf(k('a'));
    mkdirSync(join(file, '..'), { recursive: true });
    // A dead writer (no such pid) left its temp file and its .partial link; a torn asset too.
    const dead = `${file}.999999999.abcdef.tmp`;
    writeFileSync(dead, 'half');
    writeFileSync(`${file}.partial`, 'half');
    mkdirSync(join(s.fileOf(k('torn')), '..'), { recursive: true });
    writeFileSync(s.fileOf(k('torn')), 'not an asset');
    // A live writer's temp file (this process) must stay.
    const live = `${file}.${process.pid}.123456.tmp`;
    writeFileSync(live, 'writing');
    mkdirSync(join(s.fileOf(k('b')), '..'), { recursive: true });
    const old = `${s.fileOf(k('b'))}.${process.pid}.654321.tmp`;
    writeFileSync(old, 'silent for too long');
    utimesSync(old, new Date(0), new Date(0));
    await open(root, 1 << 20);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
    expect(existsSync(s.fileOf(k('torn')))).toBe(false);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
