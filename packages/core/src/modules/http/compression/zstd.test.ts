/**
 * zstd is offered only where the running Node has it (≥ 23.8 / 22.15): round trips there, and on
 * older Node (20) clients asking only for zstd get the body as is.
 */
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { ZSTD_AVAILABLE, algorithmAvailable, createDecoder, createEncoder } from './algorithm.js';
import { ResponseCompression } from './response-compression.js';

const zstdZlib = zlib as unknown as {
  zstdDecompressSync?: (b: Buffer) => Buffer;
  zstdCompressSync?: (b: Buffer) => Buffer;
};
const BODY = Buffer.from('{"id":1,"name":"pingora-ts","tags":["proxy","zstd"]}\n'.repeat(2000));

function decide(acceptEncoding: string, fields: Record<string, string>, decompress = false) {
  const m = new ResponseCompression({ level: 6, decompress });
  const req = RequestHeader.build('GET', '/');
  req.insertHeader('Accept-Encoding', acceptEncoding);
  m.requestHeaderFilter(req);
  const resp = ResponseHeader.build(200);
  for (const [name, value] of Object.entries(fields)) resp.insertHeader(name, value);
  m.responseHeaderFilter(resp, false);
  return { m, resp };
}

async function pump(stream: Transform, body: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  for (let i = 0; i < body.length; i += 7000) stream.write(body.subarray(i, i + 7000));
  stream.end();
  await finished(stream);
  return Buffer.concat(out);
}

/** The body stream of a module at `level` that decided to send zstd. */
function levelStream(level: number): Transform {
  const m = new ResponseCompression({ level });
  const req = RequestHeader.build('GET', '/');
  req.insertHeader('Accept-Encoding', 'zstd');
  m.requestHeaderFilter(req);
  const resp = ResponseHeader.build(200);
  resp.insertHeader('Content-Type', 'application/json');
  m.responseHeaderFilter(resp, false);
  return m.responseBodyStream()!;
}

const json = { 'Content-Type': 'application/json', 'Content-Length': String(BODY.length) };

describe('zstd', () => {
  it('is detected from node:zlib at runtime', () => {
    expect(ZSTD_AVAILABLE).toBe(
      typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function',
    );
    expect(algorithmAvailable('zstd')).toBe(ZSTD_AVAILABLE);
    expect(algorithmAvailable('gzip') && algorithmAvailable('br')).toBe(true);
  });

  it.runIf(ZSTD_AVAILABLE)('compresses to a body zstd decodes, level clamped at 19', async () => {
    const { m, resp } = decide('zstd', json);
    expect(resp.headers.get('content-encoding')).toBe('zstd');
    const coded = await pump(m.responseBodyStream()!, BODY);
    expect(zstdZlib.zstdDecompressSync!(coded).equals(BODY)).toBe(true);
    expect(m.getInfo()).toEqual({
      algorithm: 'zstd',
      action: 'compress',
      bytesIn: BODY.length,
      bytesOut: coded.length,
    });
    const at22 = await pump(levelStream(22), BODY);
    expect(at22.equals(await pump(levelStream(19), BODY))).toBe(true);
    expect(at22.equals(await pump(levelStream(3), BODY))).toBe(false);
    expect(zstdZlib.zstdDecompressSync!(at22).equals(BODY)).toBe(true);
  });

  it.runIf(ZSTD_AVAILABLE)(
    'flushes every chunk: a streamed event is decodable before the body ends',
    async () => {
      const m = new ResponseCompression({ level: 6 });
      const req = RequestHeader.build('GET', '/');
      req.insertHeader('Accept-Encoding', 'zstd');
      m.requestHeaderFilter(req);
      const resp = ResponseHeader.build(200);
      resp.insertHeader('Content-Type', 'text/event-stream');
      m.responseHeaderFilter(resp, false);
      const stream = m.responseBodyStream()!;
      const out: Buffer[] = [];
      // A streaming decoder: a one-shot decode of an unfinished frame fails on newer Nodes.
      const decoder = createDecoder('zstd');
      let plain = '';
      decoder.on('data', (c: Buffer) => (plain += c.toString()));
      stream.on('data', (c: Buffer) => {
        out.push(c);
        decoder.write(c);
      });
      stream.write('data: one\n\n');
      await waitFor(() => plain === 'data: one\n\n', {
        message: 'the first event to come out of the zstd stream unfinished',
      });
      stream.end('data: two\n\n');
      await finished(stream);
      expect(zstdZlib.zstdDecompressSync!(Buffer.concat(out)).toString()).toBe('data: one\n\ndata: two\n\n');
    },
  );

  it.runIf(ZSTD_AVAILABLE)('decompresses a zstd upstream body for a client without zstd', async () => {
    const { m, resp } = decide('gzip;q=0, identity', { ...json, 'Content-Encoding': 'zstd' }, true);
    expect(resp.headers.has('content-encoding')).toBe(false);
    const plain = await pump(m.responseBodyStream()!, zstdZlib.zstdCompressSync!(BODY));
    expect(plain.equals(BODY)).toBe(true);
  });

  it.runIf(!ZSTD_AVAILABLE)('without zstd in Node: a zstd-only client gets the body as is', () => {
    const { m, resp } = decide('zstd', json);
    expect(m.getInfo().action).toBe('none');
    expect(m.responseBodyStream()).toBeUndefined();
    expect(resp.headers.has('content-encoding')).toBe(false);
    expect(resp.headers.get('content-length')).toBe(String(BODY.length));
    // gzip and br are still offered, so the response does depend on Accept-Encoding.
    expect(resp.headers.get('vary')).toBe('Accept-Encoding');
    expect(decide('zstd, br;q=0.1', json).m.getInfo().algorithm).toBe('br');
  });

  it.runIf(!ZSTD_AVAILABLE)('without zstd in Node: a zstd upstream body passes through untouched', () => {
    const fields = { ...json, 'Content-Encoding': 'zstd', ETag: '"z"' };
    const { m, resp } = decide('identity', fields, true);
    expect(m.getInfo().action).toBe('none');
    expect(m.isEnabled()).toBe(false);
    expect(resp.headers.get('content-encoding')).toBe('zstd');
    expect(resp.headers.get('etag')).toBe('"z"');
    expect(resp.headers.has('vary')).toBe(false);
    expect(() => createEncoder('zstd', 3)).toThrow(/zstd is not available/);
    expect(() => createDecoder('zstd')).toThrow(/zstd is not available/);
  });
});
