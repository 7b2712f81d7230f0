/**
 * The on-disk form of an eviction manager's state: one JSON file per manager kind, written to a
 * temporary name and renamed so a crash mid-save never leaves a torn file behind. Entries are listed
 * from the first to be evicted to the last, so a reload in order rebuilds the same order.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { EvictionEntry } from './eviction.js';

/** Version of the snapshot format; a file with another version is refused. */
export const SNAPSHOT_VERSION = 1;

interface Snapshot {
  version: number;
  kind: string;
  entries: [hashKey: string, userTag: string, size: number, freshUntil: number][];
}

/** Write `entries` (eviction order, first out first) to `dir/<kind>.eviction.json`. */
export async function writeSnapshot(
  dir: string,
  kind: string,
  entries: Iterable<EvictionEntry>,
): Promise<void> {
  const snapshot: Snapshot = { version: SNAPSHOT_VERSION, kind, entries: [] };
  for (const e of entries) snapshot.entries.push([e.key.hashKey, e.key.userTag, e.size, e.freshUntil]);
  const file = snapshotPath(dir, kind);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, JSON.stringify(snapshot));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw PingoraError.because(ErrorType.FileWriteError, `eviction: cannot save ${file}`, e);
  }
}

/** Read and validate the snapshot `writeSnapshot` wrote for `kind`. */
export async function readSnapshot(dir: string, kind: string): Promise<EvictionEntry[]> {
  const file = snapshotPath(dir, kind);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw PingoraError.because(ErrorType.FileReadError, `eviction: cannot read ${file}`, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw corrupt(file, 'not valid JSON', e);
  }
  const s = parsed as Partial<Snapshot> | null;
  if (typeof s !== 'object' || s === null) throw corrupt(file, 'not a snapshot object');
  if (s.version !== SNAPSHOT_VERSION) {
    throw corrupt(file, `unsupported version ${String(s.version)} (expected ${SNAPSHOT_VERSION})`);
  }
  if (s.kind !== kind) throw corrupt(file, `written by a "${String(s.kind)}" manager, not "${kind}"`);
  if (!Array.isArray(s.entries)) throw corrupt(file, 'entries is not an array');
  return s.entries.map((row, i) => {
    if (!Array.isArray(row) || row.length !== 4) throw corrupt(file, `entry ${i} is malformed`);
    const [hashKey, userTag, size, freshUntil] = row;
    const valid =
      typeof hashKey === 'string' &&
      typeof userTag === 'string' &&
      Number.isSafeInteger(size) &&
      size >= 0 &&
      typeof freshUntil === 'number' &&
      Number.isFinite(freshUntil);
    if (!valid) throw corrupt(file, `entry ${i} is malformed`);
    return { key: { hashKey, userTag }, size, freshUntil };
  });
}

function snapshotPath(dir: string, kind: string): string {
  return join(dir, `${kind}.eviction.json`);
}

function corrupt(file: string, why: string, cause?: unknown): PingoraError {
  return PingoraError.because(ErrorType.FileReadError, `eviction: corrupt snapshot ${file}: ${why}`, cause);
}
