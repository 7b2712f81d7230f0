/** Test helpers shared by the disk storage tests and their child-process fixtures. */
import type { EvictionManager } from '../src/eviction/eviction.js';
import type { HitHandler, StorageKey } from '../src/storage/storage.js';
import { readAll } from './read-all.js';
import { DiskStorage, type DiskStorageOptions } from '../src/storage/disk/disk.js';

/** The meta the tests store: JSON in the file. */
export interface Meta {
  status: number;
  freshUntil: number;
  note?: string;
}

/** A key whose hash looks like a real one (hex, long enough for the levels). */
export function testKey(name: string): StorageKey {
  return { hashKey: Buffer.from(name.padEnd(16, '.')).toString('hex'), userTag: 'u' };
}

/** Opens a disk storage of JSON metas at `root`. */
export function openDisk(
  root: string,
  eviction: EvictionManager,
  maxFileSize?: number,
  extra: Partial<DiskStorageOptions<Meta>> = {},
): Promise<DiskStorage<Meta>> {
  return DiskStorage.open<Meta>({
    root,
    eviction,
    maxFileSize,
    serializeMeta: (m) => Buffer.from(JSON.stringify(m)),
    deserializeMeta: (b) => JSON.parse(Buffer.from(b).toString()) as Meta,
    freshUntil: (m) => m.freshUntil,
    saveIntervalMs: 0,
    ...extra,
  });
}

/** Stores `body` under `key` in one write. */
export async function put(s: DiskStorage<Meta>, key: StorageKey, body: string, meta: Meta): Promise<number> {
  const miss = await s.getMissHandler(key, meta);
  await miss.writeBody(Buffer.from(body), true);
  return miss.finish();
}

/** Reads a hit to its end as text and releases it (its file handle). */
export async function readHit(hit: HitHandler): Promise<string> {
  try {
    return await readAll(hit);
  } finally {
    await hit.finish();
  }
}
