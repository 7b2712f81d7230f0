/**
 * Where an asset lives under the cache root, nginx `proxy_cache_path … levels=1:2` style: the file is
 * named by the key's hash and sits in sub-directories named by the hash's last characters, so no
 * directory grows past a few thousand entries.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Sub-directory name lengths, from the top (nginx's `levels=1:2` is `[1, 2]`). */
export type Levels = readonly number[];

const SAFE_NAME = /^[0-9A-Za-z_-]{1,200}$/;

/** Parses and checks `levels` (`'1:2'` or `[1, 2]`): up to three levels of 1 or 2 characters. */
export function parseLevels(levels: string | Levels | undefined): Levels {
  if (levels === undefined) return [1, 2];
  const parts = typeof levels === 'string' ? (levels === '' ? [] : levels.split(':').map(Number)) : levels;
  if (parts.length > 3 || parts.some((n) => n !== 1 && n !== 2)) {
    throw new RangeError(
      `disk cache: levels must be up to three of 1 or 2 (like "1:2"), got ${String(levels)}`,
    );
  }
  return [...parts];
}

/**
 * The file name for `hashKey`: the key itself when it is a safe name long enough for the levels,
 * else its SHA-256 in hex (the header keeps the real key).
 */
export function fileName(hashKey: string, levels: Levels): string {
  const need = levels.reduce((a, b) => a + b, 0);
  if (SAFE_NAME.test(hashKey) && hashKey.length >= need) return hashKey;
  return createHash('sha256').update(hashKey).digest('hex');
}

/** The directory of the file `name`: the last characters first, as nginx does. */
export function levelDir(root: string, name: string, levels: Levels): string {
  const parts: string[] = [];
  let end = name.length;
  for (const n of levels) {
    parts.push(name.slice(end - n, end));
    end -= n;
  }
  return join(root, ...parts);
}

/** What a file in a level directory is. */
export type FileKind = 'asset' | 'partial' | 'temp' | 'other';

/** Suffix of the link readers of other processes follow to a write in progress. */
export const PARTIAL_SUFFIX = '.partial';
/** Suffix of a writer's private file: `<name>.<pid>.<nonce>.tmp`. */
export const TEMP_SUFFIX = '.tmp';

/** Classifies a file name found in a level directory. */
export function fileKind(name: string): FileKind {
  if (name.endsWith(TEMP_SUFFIX)) return 'temp';
  if (name.endsWith(PARTIAL_SUFFIX)) return 'partial';
  return SAFE_NAME.test(name) ? 'asset' : 'other';
}

/** The writer's pid in a temp file name, if it has one. */
export function tempOwner(name: string): number | undefined {
  const parts = name.split('.');
  const pid = Number(parts[parts.length - 3]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
