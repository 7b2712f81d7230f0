/**
 * The binary form of a {@link CacheMeta}. Layout of version 1 (integers little-endian, strings
 * as u32 byte length + UTF-8, which round-trips latin1 header strings exactly):
 *
 * ```
 * u8  version (1)
 * f64 freshUntil   f64 created   f64 updated          (ms since the epoch)
 * u32 staleWhileRevalidateSec    u32 staleIfErrorSec
 * u8  flags: 1 variance, 2 epochOverride, 4 no-case header, 8 reason phrase
 * [16 bytes variance] [f64 epochOverride]
 * u16 status   str httpVersion   [str reason]
 * u32 field count, then per field: str name, str value
 * ```
 *
 * The version byte comes first so a later layout can be told apart and an unknown one refused
 * instead of misread.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { ResponseHeader, reasonPhrase } from '@pingora-ts/http';
import { HASH_SIZE } from './key.js';
import type { CacheMeta, CacheMetaInit } from './meta.js';

/** The layout version {@link encodeMeta} writes. */
export const META_VERSION = 1;

const F_VARIANCE = 1;
const F_EPOCH = 2;
const F_NO_CASE = 4;
const F_REASON = 8;

function corrupt(why: string): PingoraError {
  return PingoraError.explain(ErrorType.InternalError, `corrupt CacheMeta: ${why}`);
}

class Writer {
  readonly parts: Buffer[] = [];
  fixed(size: number, fill: (b: Buffer) => void): void {
    const b = Buffer.allocUnsafe(size);
    fill(b);
    this.parts.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.fixed(4, (b) => b.writeUInt32LE(bytes.length, 0));
    this.parts.push(bytes);
  }
}

class Reader {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}
  take(n: number): Buffer {
    if (this.#pos + n > this.buf.length) throw corrupt('truncated');
    const b = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }
  u8(): number {
    return this.take(1).readUInt8(0);
  }
  u16(): number {
    return this.take(2).readUInt16LE(0);
  }
  u32(): number {
    return this.take(4).readUInt32LE(0);
  }
  f64(): number {
    return this.take(8).readDoubleLE(0);
  }
  str(): string {
    return this.take(this.u32()).toString('utf8');
  }
  done(): boolean {
    return this.#pos === this.buf.length;
  }
}

/** Serializes `meta` in the current layout. */
export function encodeMeta(meta: CacheMeta): Buffer {
  const w = new Writer();
  const h = meta.header;
  const reason = h.getReasonPhrase();
  const customReason = reason !== undefined && reason !== reasonPhrase(h.status);
  let flags = 0;
  if (meta.variance !== undefined) flags |= F_VARIANCE;
  if (meta.epochOverride !== undefined) flags |= F_EPOCH;
  if (!h.hasCase()) flags |= F_NO_CASE;
  if (customReason) flags |= F_REASON;
  w.fixed(34, (b) => {
    b.writeUInt8(META_VERSION, 0);
    b.writeDoubleLE(meta.freshUntil, 1);
    b.writeDoubleLE(meta.created, 9);
    b.writeDoubleLE(meta.updated, 17);
    b.writeUInt32LE(meta.staleWhileRevalidateSec, 25);
    b.writeUInt32LE(meta.staleIfErrorSec, 29);
    b.writeUInt8(flags, 33);
  });
  if (meta.variance !== undefined) w.parts.push(Buffer.from(meta.variance));
  if (meta.epochOverride !== undefined) {
    const e = meta.epochOverride;
    w.fixed(8, (b) => b.writeDoubleLE(e, 0));
  }
  w.fixed(2, (b) => b.writeUInt16LE(h.status, 0));
  w.str(h.version);
  if (customReason) w.str(reason);
  const raw = h.rawHeaders;
  w.fixed(4, (b) => b.writeUInt32LE(raw.length >> 1, 0));
  for (let i = 0; i + 1 < raw.length; i += 2) {
    w.str(raw[i]!);
    w.str(raw[i + 1]!);
  }
  return Buffer.concat(w.parts);
}

/** Reads what {@link encodeMeta} wrote; throws `InternalError` for anything else. */
export function decodeMeta(input: Uint8Array): CacheMetaInit {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length === 0) throw corrupt('empty buffer');
  const version = buf.readUInt8(0);
  if (version !== META_VERSION) {
    throw PingoraError.explain(ErrorType.InternalError, `unknown CacheMeta version ${version}`);
  }
  const r = new Reader(buf);
  r.u8();
  const freshUntil = r.f64();
  const created = r.f64();
  const updated = r.f64();
  const staleWhileRevalidateSec = r.u32();
  const staleIfErrorSec = r.u32();
  const flags = r.u8();
  if (flags & ~(F_VARIANCE | F_EPOCH | F_NO_CASE | F_REASON)) throw corrupt(`unknown flags ${flags}`);
  const variance = flags & F_VARIANCE ? new Uint8Array(r.take(HASH_SIZE)) : undefined;
  const epochOverride = flags & F_EPOCH ? r.f64() : undefined;
  const status = r.u16();
  const httpVersion = r.str();
  const reason = flags & F_REASON ? r.str() : undefined;
  const count = r.u32();
  const raw: string[] = [];
  for (let i = 0; i < count; i++) raw.push(r.str(), r.str());
  if (!r.done()) throw corrupt('trailing bytes');
  let header: ResponseHeader;
  try {
    if (flags & F_NO_CASE) {
      header = ResponseHeader.fromRawNoCase(status, raw, httpVersion);
      if (reason !== undefined) header.setReasonPhrase(reason);
    } else {
      header = ResponseHeader.fromRaw(status, raw, reason, httpVersion);
    }
  } catch (e) {
    throw PingoraError.because(ErrorType.InternalError, 'corrupt CacheMeta: bad response head', e);
  }
  return {
    freshUntil,
    created,
    updated,
    staleWhileRevalidateSec,
    staleIfErrorSec,
    header,
    variance,
    epochOverride,
  };
}
