import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import zlib from 'node:zlib';
import { mulberry32 } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { createEncoder, deflateSizing } from './algorithm.js';

describe('deflateSizing', () => {
  it('shrinks the window and hash memory to the body, as nginx does', () => {
    expect(deflateSizing(undefined)).toEqual({ windowBits: 15, memLevel: 8 });
    expect(deflateSizing(0)).toEqual({ windowBits: 15, memLevel: 8 });
    expect(deflateSizing(100)).toEqual({ windowBits: 9, memLevel: 2 });
    expect(deflateSizing(600)).toEqual({ windowBits: 10, memLevel: 3 });
    expect(deflateSizing(24 * 1024)).toEqual({ windowBits: 15, memLevel: 8 });
    expect(deflateSizing(16 * 1024 - 1)).toEqual({ windowBits: 14, memLevel: 7 });
    expect(deflateSizing(10 << 20)).toEqual({ windowBits: 15, memLevel: 8 });
  });

  it('gzip sized by a hint round-trips, also when the hint undercounts the body', async () => {
    const rnd = mulberry32(7);
    const words = ['alpha', 'beta', 'gamma', 'delta', 'proxy', 'cache'];
    for (const [size, hint] of [
      [100, 100],
      [600, 600],
      [5_000, 5_000],
      [40_000, 40_000],
      [40_000, 300],
    ] as const) {
      let text = '';
      while (text.length < size) text += `${words[Math.floor(rnd() * words.length)]} `;
      const body = Buffer.from(text.slice(0, size));
      const enc = createEncoder('gzip', 6, hint);
      const out = await buffer(
        Readable.from([body.subarray(0, size >> 1), body.subarray(size >> 1)]).pipe(enc),
      );
      expect(zlib.gunzipSync(out).equals(body), `size ${size}, hint ${hint}`).toBe(true);
    }
  });
});
