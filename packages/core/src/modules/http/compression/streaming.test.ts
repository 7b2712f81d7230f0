/**
 * The body side: what the module's stream produces is decoded by real decoders (node:zlib here, curl
 * in curl.test.ts), across chunking, flushing, backpressure and decompression.
 */
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { mulberry32, waitFor, waitForEvent } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { ResponseCompression, type ResponseCompressionOptions } from './response-compression.js';

const WORDS = 'the quick brown fox jumps over lazy dog proxy origin header body stream chunk cache'.split(
  ' ',
);

/** `size` bytes of seeded word salad: compresses about 3×, like real text. */
function textBody(size: number, seed = 7): Buffer {
  const rnd = mulberry32(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const w = `${WORDS[Math.floor(rnd() * WORDS.length)]}${rnd() < 0.1 ? '\n' : ' '}`;
    parts.push(w);
    length += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** A module that decided on a 200 `contentType` response for `acceptEncoding`; returns its stream. */
function bodyStream(
  acceptEncoding: string,
  options: ResponseCompressionOptions,
  fields: Record<string, string> = { 'Content-Type': 'text/html' },
): { m: ResponseCompression; stream: Transform } {
  const m = new ResponseCompression(options);
  const req = RequestHeader.build('GET', '/');
  req.insertHeader('Accept-Encoding', acceptEncoding);
  m.requestHeaderFilter(req);
  const resp = ResponseHeader.build(200);
  for (const [name, value] of Object.entries(fields)) resp.insertHeader(name, value);
  m.responseHeaderFilter(resp, false);
  const stream = m.responseBodyStream();
  if (stream === undefined) throw new Error(`no body stream for ${acceptEncoding} ${JSON.stringify(fields)}`);
  return { m, stream };
}

/** Writes `chunks` honouring backpressure, ends, and resolves with everything the stream produced. */
async function pump(stream: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) {
    if (!stream.write(c)) await waitForEvent(stream, 'drain');
  }
  stream.end();
  await finished(stream);
  return Buffer.concat(out);
}

/** `body` cut into uneven chunks (1 B to ~20 KB), the way socket reads arrive. */
function chunked(body: Buffer, seed = 3): Buffer[] {
  const rnd = mulberry32(seed);
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = 1 + Math.floor(rnd() * 20_000);
    chunks.push(body.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

const decoders = {
  gzip: (b: Buffer) => zlib.gunzipSync(b),
  br: (b: Buffer) => zlib.brotliDecompressSync(b),
};

describe('compressed bodies decode to the original', () => {
  it.each(['gzip', 'br'] as const)('%s: a multi-chunk body, with byte counts', async (algorithm) => {
    const body = textBody(200_000);
    const chunks = chunked(body);
    expect(chunks.length).toBeGreaterThan(10);
    const { m, stream } = bodyStream(algorithm, { level: 6 });
    const coded = await pump(stream, chunks);
    expect(decoders[algorithm](coded).equals(body)).toBe(true);
    expect(coded.length).toBeLessThan(body.length / 2);
    expect(m.getInfo()).toEqual({
      algorithm,
      action: 'compress',
      bytesIn: body.length,
      bytesOut: coded.length,
    });
  });

  it.each(['gzip', 'br'] as const)('%s: a short body and an empty one end properly', async (algorithm) => {
    // The decoders' default finish mode throws on a truncated stream: decoding proves end() finished it.
    const short = Buffer.from('<p>short</p>'.repeat(25));
    expect(
      decoders[algorithm](await pump(bodyStream(algorithm, { level: 6 }).stream, [short])).equals(short),
    ).toBe(true);
    expect(decoders[algorithm](await pump(bodyStream(algorithm, { level: 6 }).stream, [])).length).toBe(0);
  });

  it('clamps levels into each coding’s range', async () => {
    const body = textBody(100_000, 11);
    const coded = async (algorithm: 'gzip' | 'br', level: number) =>
      pump(bodyStream(algorithm, { level }).stream, [body]);
    const gzip20 = await coded('gzip', 20);
    expect(gzip20.equals(await coded('gzip', 9))).toBe(true);
    expect(gzip20.equals(await coded('gzip', 1))).toBe(false);
    const br20 = await coded('br', 20);
    expect(br20.equals(await coded('br', 11))).toBe(true);
    expect(br20.equals(await coded('br', 5))).toBe(false);
    expect(zlib.brotliDecompressSync(br20).equals(body)).toBe(true);
  });
});

describe('streamed responses', () => {
  it.each([
    ['gzip', (b: Buffer) => zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH })],
    [
      'br',
      (b: Buffer) => zlib.brotliDecompressSync(b, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
    ],
  ] as const)(
    '%s: every chunk is decodable before the body ends (server-sent events)',
    async (algorithm, decode) => {
      const { stream } = bodyStream(algorithm, { level: 6 }, { 'Content-Type': 'text/event-stream' });
      const out: Buffer[] = [];
      stream.on('data', (c: Buffer) => out.push(c));
      const events = ['data: one\n\n', 'data: two\n\n', 'event: ping\ndata: three\n\n'];
      let sent = '';
      for (const e of events) {
        stream.write(e);
        sent += e;
        await waitFor(() => out.length > 0 && decode(Buffer.concat(out)).toString() === sent, {
          message: `${JSON.stringify(e)} to come out of the ${algorithm} stream unfinished`,
        });
      }
      stream.end();
      await finished(stream);
      expect(decoders[algorithm](Buffer.concat(out)).toString()).toBe(sent);
    },
  );

  it('a 4 MB body with a paused reader stays bounded in the stream', async () => {
    const body = textBody(4 * 1024 * 1024, 42);
    const CHUNK = 64 * 1024;
    const { m, stream } = bodyStream('gzip', { level: 6 });
    let maxBuffered = 0;
    const track = () => {
      maxBuffered = Math.max(maxBuffered, stream.writableLength + stream.readableLength);
    };
    let offset = 0;
    const next = () => {
      const chunk = body.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      return chunk;
    };

    // The writer honours 'drain'; nobody reads yet, so the encoder stops once its readable side is
    // full, 'drain' stops coming and the writer waits.
    const writer = (async () => {
      while (offset < body.length) {
        if (!stream.write(next())) await waitForEvent(stream, 'drain', { timeout: 60_000 });
        track();
      }
    })();
    await waitFor(() => stream.readableLength >= stream.readableHighWaterMark && stream.writableNeedDrain, {
      message: 'the writer to be held back by the paused reader',
    });
    track();
    expect(offset).toBeLessThan(body.length / 8);

    // A reader arrives: the rest flows, never piling up.
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => {
      out.push(c);
      track();
    });
    await writer;
    stream.end();
    await finished(stream);
    expect(maxBuffered).toBeLessThan(256 * 1024);
    const coded = Buffer.concat(out);
    expect(zlib.gunzipSync(coded).equals(body)).toBe(true);
    expect(m.getInfo()).toMatchObject({ bytesIn: body.length, bytesOut: coded.length });
  });
});

describe('decompression', () => {
  const body = textBody(150_000, 5);
  it.each([
    ['gzip', zlib.gzipSync(body)],
    ['br', zlib.brotliCompressSync(body)],
  ] as const)('%s upstream body → identity, with byte counts', async (coding, upstream) => {
    const { m, stream } = bodyStream(
      'identity',
      { decompress: true },
      {
        'Content-Type': 'text/html',
        'Content-Encoding': coding,
      },
    );
    const plain = await pump(stream, chunked(upstream, 9));
    expect(plain.equals(body)).toBe(true);
    expect(m.getInfo()).toEqual({
      algorithm: coding,
      action: 'decompress',
      bytesIn: upstream.length,
      bytesOut: body.length,
    });
  });

  it('a corrupt or truncated upstream body errors the stream', async () => {
    const fields = { 'Content-Type': 'text/html', 'Content-Encoding': 'gzip' };
    const corrupt = bodyStream('identity', { decompress: true }, fields).stream;
    const failed = waitForEvent(corrupt, 'error');
    corrupt.end(Buffer.from('this is not gzip at all'));
    const [error] = await failed;
    expect((error as NodeJS.ErrnoException).code).toBe('Z_DATA_ERROR');

    const truncated = bodyStream('identity', { decompress: true }, fields).stream;
    truncated.resume();
    const cut = waitForEvent(truncated, 'error');
    const gz = zlib.gzipSync(body);
    truncated.end(gz.subarray(0, gz.length - 100));
    const [cutError] = await cut;
    expect((cutError as NodeJS.ErrnoException).code).toBe('Z_BUF_ERROR');
  });
});

describe('responseDoneFilter', () => {
  it('destroys a stream abandoned mid-body and leaves a finished one alone', async () => {
    const abandoned = bodyStream('gzip', { level: 6 });
    abandoned.stream.write(textBody(10_000));
    abandoned.m.responseDoneFilter();
    expect(abandoned.stream.destroyed).toBe(true);

    const done = bodyStream('gzip', { level: 6 });
    const coded = await pump(done.stream, [textBody(10_000)]);
    done.m.responseDoneFilter();
    expect(zlib.gunzipSync(coded).length).toBe(10_000);
    expect(done.m.getInfo().bytesOut).toBe(coded.length);
  });
});
