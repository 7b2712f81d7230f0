/**
 * The on-disk form of one asset: a fixed header, the key, the meta, then the body, in one file. One
 * file (not a meta file beside a body file) because a single `rename` then replaces meta and body
 * together: a reader that opened the file sees a matching pair whatever happens to the path later.
 *
 * ```
 * 0  "PTDC"  4  version u8  5  state u8  6  reserved u16  8  body length f64 (-1 while writing)
 * 16 key length u32  20 meta length u32  24 key (JSON [hashKey, userTag])  … meta  … body
 * ```
 *
 * The state byte and the body length sit at fixed offsets so the writer can mark the file complete
 * (or aborted) in place while readers in other processes tail it.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { StorageKey } from '../storage.js';

/** Version of the asset file format; files of another version are treated as corrupt. */
export const DISK_FORMAT_VERSION = 1;

const MAGIC = 0x43445450; // "PTDC" read as little-endian u32
/** Bytes before the key. */
export const FIXED_HEADER = 24;
/** Offset of the state byte. */
export const STATE_OFFSET = 5;
/** Offset of the body length (f64). */
export const LENGTH_OFFSET = 8;

/** Where a file's write stands: `writing` files are partial, only `done` files are served as hits. */
export type FileState = 'writing' | 'done' | 'aborted';

const STATE_CODES: Record<FileState, number> = { writing: 0, done: 1, aborted: 2 };
const STATE_NAMES: readonly FileState[] = ['writing', 'done', 'aborted'];

/** A parsed asset header. */
export interface AssetHeader {
  key: StorageKey;
  meta: Uint8Array;
  state: FileState;
  /** Body bytes, -1 while the body is still being written. */
  bodyLength: number;
  /** Where the body starts in the file. */
  bodyOffset: number;
}

/** The header of a new asset file (state `writing`, unless `bodyLength` says it is complete). */
export function encodeHeader(key: StorageKey, meta: Uint8Array, bodyLength = -1): Buffer {
  const keyBytes = Buffer.from(JSON.stringify([key.hashKey, key.userTag]));
  const out = Buffer.allocUnsafe(FIXED_HEADER + keyBytes.length + meta.byteLength);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt8(DISK_FORMAT_VERSION, 4);
  out.writeUInt8(bodyLength < 0 ? STATE_CODES.writing : STATE_CODES.done, STATE_OFFSET);
  out.writeUInt16LE(0, 6);
  out.writeDoubleLE(bodyLength, LENGTH_OFFSET);
  out.writeUInt32LE(keyBytes.length, 16);
  out.writeUInt32LE(meta.byteLength, 20);
  keyBytes.copy(out, FIXED_HEADER);
  out.set(meta, FIXED_HEADER + keyBytes.length);
  return out;
}

/** The 9 bytes (state, reserved, length) a writer rewrites in place to end its file. */
export function encodeState(state: FileState, bodyLength: number): Buffer {
  const out = Buffer.alloc(LENGTH_OFFSET + 8 - STATE_OFFSET);
  out.writeUInt8(STATE_CODES[state], 0);
  out.writeDoubleLE(bodyLength, LENGTH_OFFSET - STATE_OFFSET);
  return out;
}

/** Reads the state and body length from the bytes at {@link STATE_OFFSET}. */
export function decodeState(bytes: Uint8Array): { state: FileState; bodyLength: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    state: STATE_NAMES[buf.readUInt8(0)] ?? 'aborted',
    bodyLength: buf.readDoubleLE(LENGTH_OFFSET - STATE_OFFSET),
  };
}

/**
 * How many bytes the header in `head` spans, or `undefined` when `head` is too short to say. Throws a
 * `PingoraError` for a file that is not an asset of this format.
 */
export function headerLength(head: Uint8Array, file: string): number | undefined {
  if (head.byteLength < FIXED_HEADER) return undefined;
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (buf.readUInt32LE(0) !== MAGIC) throw corrupt(file, 'bad magic');
  if (buf.readUInt8(4) !== DISK_FORMAT_VERSION)
    throw corrupt(file, `unsupported version ${buf.readUInt8(4)}`);
  return FIXED_HEADER + buf.readUInt32LE(16) + buf.readUInt32LE(20);
}

/** Parses a whole header (`head` holds at least {@link headerLength} bytes). */
export function decodeHeader(head: Uint8Array, file: string): AssetHeader {
  const total = headerLength(head, file);
  if (total === undefined || head.byteLength < total) throw corrupt(file, 'truncated header');
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const keyLength = buf.readUInt32LE(16);
  let key: unknown;
  try {
    key = JSON.parse(buf.toString('utf8', FIXED_HEADER, FIXED_HEADER + keyLength));
  } catch (e) {
    throw corrupt(file, 'bad key', e);
  }
  if (!Array.isArray(key) || typeof key[0] !== 'string' || typeof key[1] !== 'string') {
    throw corrupt(file, 'bad key');
  }
  const { state, bodyLength } = decodeState(head.subarray(STATE_OFFSET, LENGTH_OFFSET + 8));
  return {
    key: { hashKey: key[0], userTag: key[1] },
    meta: head.subarray(FIXED_HEADER + keyLength, total),
    state,
    bodyLength,
    bodyOffset: total,
  };
}

function corrupt(file: string, why: string, cause?: unknown): PingoraError {
  return PingoraError.because(ErrorType.FileReadError, `disk cache: corrupt asset ${file}: ${why}`, cause);
}
