import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { META_VERSION } from './meta-codec.js';
import { CacheMeta, CacheMetaDefaults } from './meta.js';

const T0 = 1_700_000_000_000; // fixed clock, ms

function meta(over: Partial<ConstructorParameters<typeof CacheMeta>[0]> = {}): CacheMeta {
  return new CacheMeta({
    freshUntil: T0 + 300_000,
    created: T0,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header: ResponseHeader.build(200),
    ...over,
  });
}

function thrown(fn: () => unknown): PingoraError {
  try {
    fn();
  } catch (e) {
    return e as PingoraError;
  }
  throw new Error('did not throw');
}

describe('freshness and age', () => {
  it('is fresh up to and including freshUntil', () => {
    const m = meta();
    expect(m.isFresh(T0)).toBe(true);
    expect(m.isFresh(T0 + 300_000)).toBe(true);
    expect(m.isFresh(T0 + 300_001)).toBe(false);
  });

  it('updated defaults to created; age and freshSec measure from the epoch', () => {
    const m = meta();
    expect(m.updated).toBe(T0);
    expect(m.epoch()).toBe(T0);
    expect(m.age(T0 + 100)).toBe(0);
    expect(m.age(T0 + 10_999)).toBe(10);
    expect(m.age(T0 - 5000)).toBe(0); // a clock that went back never gives a negative Age
    expect(m.freshSec()).toBe(300);
  });

  it('epoch override (Pingora vectors: past, future, freshSec)', () => {
    const m = meta();
    m.epochOverride = T0 - 10_000;
    expect(m.epoch()).toBe(T0 - 10_000);
    expect(m.age(T0)).toBe(10);
    m.epochOverride = T0 + 10_000;
    expect(m.age(T0)).toBe(0);

    const f = meta({ created: 0, updated: 1_000_000, freshUntil: 1_100_000 });
    expect(f.freshSec()).toBe(100);
    f.epochOverride = 1_050_000;
    expect(f.freshSec()).toBe(50);
  });

  it('stale windows run from freshUntil, inclusive; 0 disables them', () => {
    const m = meta({ freshUntil: T0, staleWhileRevalidateSec: 5, staleIfErrorSec: 60 });
    expect(m.canServeStaleWhileRevalidate(T0 + 5000)).toBe(true);
    expect(m.canServeStaleWhileRevalidate(T0 + 5001)).toBe(false);
    expect(m.canServeStaleIfError(T0 + 60_000)).toBe(true);
    expect(m.canServeStaleIfError(T0 + 60_001)).toBe(false);
    m.disableServeStale();
    expect(m.canServeStaleWhileRevalidate(T0)).toBe(false);
    expect(m.canServeStaleIfError(T0)).toBe(false);
  });

  it('rejects a variance that is not 16 bytes', () => {
    expect(() => meta({ variance: new Uint8Array(4) })).toThrow(RangeError);
  });
});

describe('serialize / deserialize', () => {
  it('round-trips every field and the response head', () => {
    const header = ResponseHeader.build(404);
    header.setReasonPhrase('Gone Fishing');
    header.appendHeader('Content-Type', 'text/plain');
    header.appendHeader('Set-Cookie', 'a=1');
    header.appendHeader('set-cookie', 'b=\xE9'); // latin1 byte in a value
    const m = meta({
      header,
      updated: T0 + 1,
      staleWhileRevalidateSec: 7,
      staleIfErrorSec: 2147483647,
      variance: new TextEncoder().encode('variance_testing'),
      epochOverride: T0 - 1,
    });
    m.extensions.note = 'not stored';
    const back = CacheMeta.deserialize(m.serialize());
    expect(back.freshUntil).toBe(m.freshUntil);
    expect(back.created).toBe(T0);
    expect(back.updated).toBe(T0 + 1);
    expect(back.staleWhileRevalidateSec).toBe(7);
    expect(back.staleIfErrorSec).toBe(2147483647);
    expect(Buffer.from(back.variance!).toString()).toBe('variance_testing');
    expect(back.epochOverride).toBe(T0 - 1);
    expect(back.header.status).toBe(404);
    expect(back.header.getReasonPhrase()).toBe('Gone Fishing');
    expect(back.header.rawHeaders).toEqual(header.rawHeaders);
    expect(back.headers.getAll('set-cookie')).toEqual(['a=1', 'b=\xE9']);
    expect(back.extensions).toEqual({});
  });

  it('round-trips the minimal form (no variance, no override, canonical reason, no-case header)', () => {
    const header = ResponseHeader.buildNoCase(200);
    header.insertHeader('ETag', '"x"');
    header.setVersion('2');
    const back = CacheMeta.deserialize(meta({ header }).serialize());
    expect(back.variance).toBeUndefined();
    expect(back.epochOverride).toBeUndefined();
    expect(back.header.hasCase()).toBe(false);
    expect(back.header.version).toBe('2');
    expect(back.header.getReasonPhrase()).toBe('OK');
    expect(back.headers.get('etag')).toBe('"x"');
  });

  it('starts with the version byte and refuses unknown versions', () => {
    const buf = meta().serialize();
    expect(buf[0]).toBe(META_VERSION);
    buf[0] = 99;
    const e = thrown(() => CacheMeta.deserialize(buf));
    expect(e.type).toBe(ErrorType.InternalError);
    expect(e.message).toMatch(/unknown CacheMeta version 99/);
  });

  it('refuses empty, truncated and padded buffers', () => {
    const buf = meta().serialize();
    expect(thrown(() => CacheMeta.deserialize(Buffer.alloc(0))).message).toMatch(/empty/);
    expect(thrown(() => CacheMeta.deserialize(buf.subarray(0, buf.length - 1))).message).toMatch(/truncated/);
    expect(thrown(() => CacheMeta.deserialize(Buffer.concat([buf, Buffer.from([0])]))).message).toMatch(
      /trailing/,
    );
  });

  it('accepts a plain Uint8Array', () => {
    const buf = meta().serialize();
    expect(CacheMeta.deserialize(new Uint8Array(buf)).freshUntil).toBe(T0 + 300_000);
  });
});

describe('CacheMetaDefaults', () => {
  it('looks up by status, a 304 uses the 200 lifetime', () => {
    const d = new CacheMetaDefaults((s) => (s === 200 ? 10 : s === 404 ? 5 : undefined), 3, 4);
    expect(d.freshSec(200)).toBe(10);
    expect(d.freshSec(304)).toBe(10);
    expect(d.freshSec(404)).toBe(5);
    expect(d.freshSec(206)).toBeUndefined();
    expect(d.serveStaleWhileRevalidateSec()).toBe(3);
    expect(d.serveStaleIfErrorSec()).toBe(4);
  });
});
