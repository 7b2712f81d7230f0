import { describe, expect, it } from 'vitest';
import { CRC32_INIT, crc32, crc32FinalizeWithWord, crc32Update, crc32UpdateString } from './crc32.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** Bit-by-bit CRC-32 straight from the polynomial: an oracle independent of the tables. */
function slowCrc(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32', () => {
  it('matches the CRC-32/IEEE check values', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    expect(crc32('a')).toBe(0xe8b7be43);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926);
  });

  it('agrees with a bitwise implementation on random bytes', () => {
    for (let n = 0; n < 200; n++) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = (i * 131 + n * 7) & 0xff;
      expect(crc32(data)).toBe(slowCrc(data));
    }
  });

  it('hashes strings as their UTF-8 bytes, lone surrogates as U+FFFD like TextEncoder', () => {
    const samples = [
      'é',
      'ß漢字',
      '😀🦀',
      '€uro',
      '\u0000nul',
      '\ud800',
      'a\udc00b',
      '\ud83d',
      '\udbff\udfff',
      'x\ud800\ud800y',
    ];
    for (let i = 0; i < 500; i++) {
      let s = '';
      for (let j = 0; j < i % 13; j++) s += String.fromCharCode((i * 7919 + j * 104729) % 0x10000);
      samples.push(s);
    }
    for (const s of samples) expect(crc32(s), JSON.stringify(s)).toBe(slowCrc(bytes(s)));
  });

  it('finalizes with a little-endian word exactly like feeding its 4 bytes', () => {
    const base = crc32UpdateString(CRC32_INIT, '127.0.0.1\u00007777');
    for (const word of [0, 1, 0xdeadbeef, 0xffffffff, 0x80000000]) {
      const le = new Uint8Array([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24]);
      expect(crc32FinalizeWithWord(base, word)).toBe(~crc32Update(base, le) >>> 0);
    }
  });
});
