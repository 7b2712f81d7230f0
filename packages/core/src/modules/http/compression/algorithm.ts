/**
 * The content codings response compression speaks (gzip, brotli, zstd), their level ranges, and the
 * node:zlib streams that encode and decode them. zstd exists only in newer Node releases (≥ 23.8,
 * 22.15), so it is detected at runtime and is simply not offered where it is missing.
 */
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

/** A content coding the module can produce or remove, named as in `Content-Encoding`. */
export type CompressionAlgorithm = 'gzip' | 'br' | 'zstd';

/**
 * Server preference among codings the client rates equally: zstd first (at equal levels it
 * compresses several times faster than gzip with a ratio close to brotli's), then brotli (smaller
 * than gzip at a comparable cost for levels up to ~9), then gzip, which every client decodes.
 */
export const PREFERENCE: readonly CompressionAlgorithm[] = ['zstd', 'br', 'gzip'];

/**
 * Accepted level range per coding; a level outside is clamped into it. zstd stops at 19 because
 * 20–22 are its "ultra" levels, which need windows of up to 128 MB per response (the zstd tool
 * itself refuses them without `--ultra`).
 */
export const LEVEL_RANGE: Readonly<Record<CompressionAlgorithm, readonly [min: number, max: number]>> = {
  gzip: [1, 9],
  br: [1, 11],
  zstd: [1, 19],
};

/**
 * A brotli window of 2^19 bytes (512 KB) instead of Node's 4 MB default: the window is allocated
 * per response in flight, and larger ones only pay off on bodies of several megabytes.
 */
const BROTLI_WINDOW_BITS = 19;

// @types/node 20 does not know zstd; these are the members we use where the running Node has them.
interface ZstdZlib {
  createZstdCompress?: (options?: object) => Transform;
  createZstdDecompress?: (options?: object) => Transform;
}
const zstdZlib = zlib as unknown as ZstdZlib;
const constants = zlib.constants as unknown as Record<string, number>;

/** Whether the running Node can encode and decode zstd (`zlib.createZstdCompress`). */
export const ZSTD_AVAILABLE =
  typeof zstdZlib.createZstdCompress === 'function' && typeof zstdZlib.createZstdDecompress === 'function';

/** Whether this Node can produce and remove `algorithm`. */
export function algorithmAvailable(algorithm: CompressionAlgorithm): boolean {
  return algorithm !== 'zstd' || ZSTD_AVAILABLE;
}

/**
 * `level` clamped into `algorithm`'s {@link LEVEL_RANGE}; 0 stays 0 (disabled).
 * @throws RangeError for a level that is not a non-negative integer.
 */
export function clampLevel(algorithm: CompressionAlgorithm, level: number): number {
  checkLevel(level);
  if (level === 0) return 0;
  const [min, max] = LEVEL_RANGE[algorithm];
  return Math.min(max, Math.max(min, level));
}

/** @throws RangeError unless `level` is a non-negative integer. */
export function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0) {
    throw new RangeError(`compression level must be a non-negative integer, got ${level}`);
  }
}

/**
 * The coding named by a `Content-Encoding` value, or `undefined` for anything else: unknown
 * codings and stacked ones (`gzip, br`) are passed through untouched. `x-gzip` is gzip (RFC 9110
 * asks recipients to treat it so).
 */
export function parseContentCoding(value: string): CompressionAlgorithm | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'br' || v === 'zstd') return v;
  return undefined;
}

/**
 * A compressing stream for `algorithm` at `level` (already clamped). Every chunk written is
 * flushed to a decodable boundary (sync flush), so a streamed response such as server-sent events
 * reaches the client as it is produced; on the chunk sizes a proxy sees (socket reads of KBs) this
 * costs a few bytes per chunk. `end()` finishes the coded stream, so short bodies end properly.
 * `sizeHint` (the body length, when known) lets brotli pick its parameters.
 */
export function createEncoder(algorithm: CompressionAlgorithm, level: number, sizeHint?: number): Transform {
  switch (algorithm) {
    case 'gzip': {
      const { windowBits, memLevel } = deflateSizing(sizeHint);
      return zlib.createGzip({ level, windowBits, memLevel, flush: zlib.constants.Z_SYNC_FLUSH });
    }
    case 'br': {
      const params: Record<number, number> = {
        [zlib.constants.BROTLI_PARAM_QUALITY]: level,
        [zlib.constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS,
      };
      if (sizeHint !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
      return zlib.createBrotliCompress({ params, flush: zlib.constants.BROTLI_OPERATION_FLUSH });
    }
    case 'zstd':
      return zstd('createZstdCompress', {
        params: { [constants.ZSTD_c_compressionLevel as number]: level },
        flush: constants.ZSTD_e_flush,
      });
  }
}

/**
 * Deflate's window and hash memory for a body of `size` bytes, as nginx sizes them: a window
 * larger than the body finds nothing more to match, and each halving of it (down to deflate's
 * 512 bytes) also halves the hash memory, so a small response costs tens of KB of state to set up
 * and clear instead of ~256 KB. Unknown sizes get the defaults (15, 8).
 */
export function deflateSizing(size: number | undefined): { windowBits: number; memLevel: number } {
  let windowBits = 15;
  let memLevel = 8;
  if (size === undefined || size <= 0) return { windowBits, memLevel };
  while (size < 1 << (windowBits - 1) && windowBits > 9) {
    windowBits--;
    if (memLevel > 1) memLevel--;
  }
  return { windowBits, memLevel };
}

/** A decompressing stream for `algorithm`. A corrupt or truncated body makes it emit `error`. */
export function createDecoder(algorithm: CompressionAlgorithm): Transform {
  switch (algorithm) {
    case 'gzip':
      return zlib.createGunzip();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return zstd('createZstdDecompress', {});
  }
}

function zstd(factory: keyof ZstdZlib, options: object): Transform {
  const create = zstdZlib[factory];
  if (create === undefined) throw new Error(`zstd is not available in Node ${process.version}`);
  return create(options);
}
