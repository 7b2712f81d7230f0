import { randomBytes } from 'node:crypto';
import { CacheKey, CacheMeta, type HitHandler, purgeResponse, VarianceBuilder } from '@pingora-ts/cache';
import { waitFor } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorage } from '../src/index.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis;

beforeAll(async () => {
  if (run) redis = await TestRedis.start({ allowExternal: true });
});
afterAll(async () => redis?.close());

function meta(freshMs = 60_000, tag = 'v1', stale = 0): CacheMeta {
  const now = Date.now();
  const header = purgeResponse('Found');
  header.insertHeader('X-Tag', tag);
  return new CacheMeta({
    freshUntil: now + freshMs,
    created: now,
    staleWhileRevalidateSec: stale,
    staleIfErrorSec: 0,
    header,
  });
}

/** Two storages on two connections, as two instances see one Redis. */
async function pair(options: ConstructorParameters<typeof RedisStorage>[1] = {}) {
  const prefix = `t:${randomBytes(4).toString('hex')}:`;
  const a = new RedisStorage(await redis.readyClient(), { prefix, ...options });
  const b = new RedisStorage(await redis.readyClient(), { prefix, ...options });
  return { a, b };
}

function key(name: string) {
  return new CacheKey('', name, '').toCompact();
}

async function readAll(hit: HitHandler): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (let c = await hit.readBody(); c !== undefined; c = await hit.readBody()) parts.push(c);
  await hit.finish();
  return Buffer.concat(parts);
}

describe.runIf(run)('RedisStorage', () => {
  it('stores meta and body through one instance and serves them to another', async () => {
    const { a, b } = await pair();
    const k = key('/round-trip');
    expect(await b.lookup(k)).toBeUndefined();
    const m = meta(60_000, 'round');
    const miss = await a.getMissHandler(k, m);
    await miss.writeBody(Buffer.from('hello '), false);
    await miss.writeBody(Buffer.from('world'), true);
    expect(await miss.finish()).toBe(11);
    const found = await b.lookup(k);
    expect(found).toBeDefined();
    expect(found!.meta.freshUntil).toBe(m.freshUntil);
    expect(found!.meta.header.headers.get('x-tag')).toBe('round');
    expect((await readAll(found!.hit)).toString()).toBe('hello world');
  });

  it('streams a large body to a reader on another connection while it is written', async () => {
    const { a, b } = await pair({ chunkSize: 16 * 1024 });
    const k = key('/large');
    const body = randomBytes(16 * 1024 * 12 + 123);
    const miss = await a.getMissHandler(k, meta());
    const found = await b.lookup(k);
    expect(found).toBeDefined();
    const hit = found!.hit;
    const received: Buffer[] = [];
    let receivedBytes = 0;
    // Lock-step: each chunk is read on the other connection before the next one is written.
    for (let off = 0; off < body.length; off += 16 * 1024) {
      const piece = body.subarray(off, Math.min(off + 16 * 1024, body.length));
      const last = off + piece.length >= body.length;
      await miss.writeBody(piece, last);
      if (last) break;
      const chunk = await hit.readBody();
      expect(chunk).toBeDefined();
      received.push(Buffer.from(chunk!));
      receivedBytes += chunk!.byteLength;
      expect(receivedBytes).toBe(off + piece.length);
    }
    const waiting = readAll(hit);
    await miss.finish();
    received.push(await waiting);
    expect(Buffer.concat(received).equals(body)).toBe(true);
    // And as a committed asset, with a seek into the middle of a chunk.
    const again = await b.lookup(k);
    again!.hit.seek(16 * 1024 * 3 + 7, 16 * 1024 * 5 + 1);
    expect((await readAll(again!.hit)).equals(body.subarray(16 * 1024 * 3 + 7, 16 * 1024 * 5 + 1))).toBe(
      true,
    );
  });

  it('fails a partial reader cleanly when the writer aborts, and keeps serving the old asset', async () => {
    const { a, b } = await pair({ chunkSize: 4 });
    const k = key('/abort');
    const first = await a.getMissHandler(k, meta(60_000, 'old'));
    await first.writeBody(Buffer.from('old body'), true);
    await first.finish();
    const second = await a.getMissHandler(k, meta(60_000, 'new'));
    await second.writeBody(Buffer.from('new '), false);
    const partial = await b.lookup(k);
    expect(partial!.meta.header.headers.get('x-tag')).toBe('new');
    expect(Buffer.from((await partial!.hit.readBody())!).toString()).toBe('new ');
    const pending = partial!.hit.readBody();
    second.abort(new Error('upstream reset'));
    await expect(pending).rejects.toThrow(/aborted/);
    const found = await b.lookup(k);
    expect(found!.meta.header.headers.get('x-tag')).toBe('old');
    expect((await readAll(found!.hit)).toString()).toBe('old body');
  });

  it('fails a partial reader when the writer dies, and never serves the half-written asset', async () => {
    const { a, b } = await pair({ chunkSize: 4, writeTimeoutMs: 300 });
    const k = key('/dead-writer');
    const miss = await a.getMissHandler(k, meta());
    await miss.writeBody(Buffer.from('half'), false);
    const found = await b.lookup(k);
    expect(Buffer.from((await found!.hit.readBody())!).toString()).toBe('half');
    // The writer never writes again: its version expires and the reader gets an error, not a hang.
    await expect(found!.hit.readBody()).rejects.toThrow(/gone/);
    expect(await b.lookup(k)).toBeUndefined();
    await expect(miss.finish()).rejects.toThrow();
  });

  it('keeps a slow write alive between chunks, past writeTimeoutMs', async () => {
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const client = await redis.readyClient();
    const storage = new RedisStorage(client, { prefix, writeTimeoutMs: 1000 });
    const k = key('/slow');
    const miss = await storage.getMissHandler(k, meta());
    const [versionKey] = await client.keys(`${prefix}*:v:*`);
    let sent = '';
    // Four small pieces, each written once half the version's time is gone: twice writeTimeoutMs
    // in all, the chunk never fills, yet the write stays alive.
    for (let i = 0; i < 4; i++) {
      await waitFor(async () => (await client.pttl(versionKey!)) < 500, { message: 'time to pass' });
      await miss.writeBody(Buffer.from(`piece${i} `), false);
      sent += `piece${i} `;
    }
    await miss.writeBody(Buffer.alloc(0), true);
    await miss.finish();
    expect((await readAll((await storage.lookup(k))!.hit)).toString()).toBe(sent);
  });

  it('expires an asset with Redis when its freshness and stale windows are over', async () => {
    const { a, b } = await pair();
    const k = key('/ttl');
    const miss = await a.getMissHandler(k, meta(300));
    await miss.writeBody(Buffer.from('short-lived'), true);
    await miss.finish();
    expect(await b.lookup(k)).toBeDefined();
    await waitFor(async () => (await b.lookup(k)) === undefined, { message: 'the asset to expire' });
    // A stale-while-revalidate window keeps it past freshness.
    const k2 = key('/ttl-stale');
    const m2 = meta(100, 'swr', 60);
    const w2 = await a.getMissHandler(k2, m2);
    await w2.writeBody(Buffer.from('stale ok'), true);
    await w2.finish();
    await waitFor(() => Date.now() > m2.freshUntil + 50, { message: 'freshness to end' });
    const stale = await b.lookup(k2);
    expect(stale).toBeDefined();
    expect(stale!.meta.isFresh(Date.now())).toBe(false);
    expect(stale!.meta.canServeStaleWhileRevalidate(Date.now())).toBe(true);
  });

  it('purges an asset; a read under way still finishes', async () => {
    const { a, b } = await pair({ chunkSize: 4 });
    const k = key('/purge');
    const miss = await a.getMissHandler(k, meta());
    await miss.writeBody(Buffer.from('to be purged'), true);
    await miss.finish();
    const reading = await b.lookup(k);
    expect(Buffer.from((await reading!.hit.readBody())!).toString()).toBe('to b');
    expect(await b.purge(k, 'Invalidation')).toBe(true);
    expect(await a.lookup(k)).toBeUndefined();
    expect(await a.purge(k, 'Invalidation')).toBe(false);
    expect((await readAll(reading!.hit)).toString()).toBe('e purged');
  });

  it('keeps variants apart under their variance keys, as the memory storage does', async () => {
    const { a, b } = await pair();
    const variant = (encoding: string) => {
      const ck = new CacheKey('', '/vary', '');
      const v = new VarianceBuilder();
      v.addValue('accept-encoding', encoding);
      ck.setVarianceKey(v.finalize()!);
      return ck.toCompact();
    };
    const gz = variant('gzip');
    const br = variant('br');
    expect(gz.hashKey).not.toBe(br.hashKey);
    for (const [k, body] of [
      [gz, 'gzip body'],
      [br, 'br body'],
    ] as const) {
      const miss = await a.getMissHandler(k, meta(60_000, body));
      await miss.writeBody(Buffer.from(body), true);
      await miss.finish();
    }
    expect((await readAll((await b.lookup(gz))!.hit)).toString()).toBe('gzip body');
    expect((await readAll((await b.lookup(br))!.hit)).toString()).toBe('br body');
    expect(await b.purge(gz, 'Invalidation')).toBe(true);
    expect(await b.lookup(gz)).toBeUndefined();
    expect(await b.lookup(br)).toBeDefined();
  });

  it('updates the meta of a stored asset and refuses a body past maxFileSize', async () => {
    const { a, b } = await pair({ maxFileSize: 8 });
    const k = key('/meta');
    expect(await a.updateMeta(k, meta())).toBe(false);
    const miss = await a.getMissHandler(k, meta(60_000, 'before'));
    await miss.writeBody(Buffer.from('12345678'), true);
    await miss.finish();
    expect(await a.updateMeta(k, meta(120_000, 'after'))).toBe(true);
    expect((await b.lookup(k))!.meta.header.headers.get('x-tag')).toBe('after');
    const big = await a.getMissHandler(key('/big'), meta());
    const err = await big.writeBody(Buffer.alloc(9), true).then(
      () => undefined,
      (e: unknown) => e as { type?: { toString(): string } },
    );
    expect(String(err?.type)).toBe('ResponseTooLarge');
    expect(await b.lookup(key('/big'))).toBeUndefined();
  });

  it('treats a meta it cannot read (another version wrote it) as a miss', async () => {
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const client = await redis.readyClient();
    const storage = new RedisStorage(client, { prefix });
    const k = key('/foreign');
    await client.hset(
      `${prefix}{${k.hashKey}}:v:x`,
      'meta',
      'not a meta',
      'st',
      'd',
      'n',
      0,
      'len',
      0,
      'cs',
      16,
    );
    await client.set(`${prefix}{${k.hashKey}}:k`, 'x');
    expect(await storage.lookup(k)).toBeUndefined();
    const miss = await storage.getMissHandler(k, meta());
    await miss.writeBody(Buffer.from('fresh'), true);
    await miss.finish();
    expect((await readAll((await storage.lookup(k))!.hit)).toString()).toBe('fresh');
  });

  it('rejects bad options with a clear error', () => {
    const client = redis.client();
    expect(() => new RedisStorage(client, { chunkSize: 0 })).toThrow(RangeError);
    expect(() => new RedisStorage({} as never)).toThrow(TypeError);
  });
});
