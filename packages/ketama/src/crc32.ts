/**
 * CRC-32/IEEE (the zlib/PNG/Ethernet CRC: reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF), the hash nginx (`ngx_crc32_long`) and Pingora (`crc32fast`) use for
 * `hash $key consistent`. Table-driven, with four extra tables so the 4-byte "previous hash"
 * step of ring building is one lookup round instead of four.
 */

const POLY = 0xedb88320;

function makeTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  // tK[n] is the CRC register after feeding byte n followed by K zero bytes (slicing-by-4).
  const tables = [t0];
  for (let k = 1; k < 4; k++) {
    const prev = tables[k - 1]!;
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    tables.push(t);
  }
  return tables;
}

const [T0, T1, T2, T3] = makeTables() as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** Initial register value. A running CRC is the register before the final XOR. */
export const CRC32_INIT = 0xffffffff;

/** Feed `bytes[start..end)` into the running register `crc`; returns the new register. */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = crc;
  for (let i = start; i < end; i++) c = T0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/**
 * Feed the four little-endian bytes of the 32-bit `word` into `crc` and finalize: the per-point
 * step of ring building, `crc32(base ++ prev.to_le_bytes())` from a saved `base` register.
 */
export function crc32FinalizeWithWord(crc: number, word: number): number {
  const c = crc ^ word;
  return ~(T3[c & 0xff]! ^ T2[(c >>> 8) & 0xff]! ^ T1[(c >>> 16) & 0xff]! ^ T0[c >>> 24]!) >>> 0;
}

/**
 * Register update for a JavaScript string encoded as UTF-8, without allocating the encoded bytes.
 * Lone surrogates count as U+FFFD, as `TextEncoder` and `Buffer.from(string)` encode them.
 */
export function crc32UpdateString(crc: number, s: string): number {
  let c = crc;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let u = s.charCodeAt(i);
    if (u < 0x80) {
      c = T0[(c ^ u) & 0xff]! ^ (c >>> 8);
      continue;
    }
    if (u < 0x800) {
      c = T0[(c ^ (0xc0 | (u >>> 6))) & 0xff]! ^ (c >>> 8);
      c = T0[(c ^ (0x80 | (u & 0x3f))) & 0xff]! ^ (c >>> 8);
      continue;
    }
    if (u >= 0xd800 && u <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (u <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((u - 0xd800) << 10) + (next - 0xdc00);
        i++;
        c = T0[(c ^ (0xf0 | (cp >>> 18))) & 0xff]! ^ (c >>> 8);
        c = T0[(c ^ (0x80 | ((cp >>> 12) & 0x3f))) & 0xff]! ^ (c >>> 8);
        c = T0[(c ^ (0x80 | ((cp >>> 6) & 0x3f))) & 0xff]! ^ (c >>> 8);
        c = T0[(c ^ (0x80 | (cp & 0x3f))) & 0xff]! ^ (c >>> 8);
        continue;
      }
      u = 0xfffd;
    }
    c = T0[(c ^ (0xe0 | (u >>> 12))) & 0xff]! ^ (c >>> 8);
    c = T0[(c ^ (0x80 | ((u >>> 6) & 0x3f))) & 0xff]! ^ (c >>> 8);
    c = T0[(c ^ (0x80 | (u & 0x3f))) & 0xff]! ^ (c >>> 8);
  }
  return c;
}

/**
 * CRC-32/IEEE of `data`; strings are hashed as their UTF-8 bytes. Returns an unsigned 32-bit
 * integer (`crc32('123456789') === 0xcbf43926`).
 *
 * @example
 * ```ts
 * import { crc32 } from '@pingora-ts/ketama';
 * crc32('doghash').toString(16);
 * crc32(new Uint8Array([1, 2, 3]));
 * ```
 */
export function crc32(data: string | Uint8Array): number {
  const c = typeof data === 'string' ? crc32UpdateString(CRC32_INIT, data) : crc32Update(CRC32_INIT, data);
  return ~c >>> 0;
}
