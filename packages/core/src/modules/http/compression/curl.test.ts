/**
 * curl as the client: a node:http server on loopback runs the module's hooks around each response
 * and pipes the body through its stream, and curl's own decoders (zlib, brotli, zstd) read it.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { closeAll, onClose, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { ZSTD_AVAILABLE } from './algorithm.js';
import { ResponseCompressionBuilder } from './builder.js';
import type { CompressionInfo } from './response-compression.js';

const run = promisify(execFile);
const BODY = Buffer.from(
  Array.from(
    { length: 1500 },
    (_, i) => `<li class="item">row ${i}: pingora-ts response compression</li>\n`,
  ).join(''),
);

afterEach(closeAll);

/** Serves BODY (gzip-coded upstream-style on `/gzip`) through a module; records each getInfo(). */
async function server(): Promise<{ url: string; infos: CompressionInfo[] }> {
  const builder = new ResponseCompressionBuilder({ level: 6, decompress: true });
  const infos: CompressionInfo[] = [];
  const srv = http.createServer((msg, res) => {
    const m = builder.init();
    m.requestHeaderFilter(RequestHeader.fromRaw(msg.method!, msg.url!, msg.rawHeaders, msg.httpVersion));
    const coded = msg.url === '/gzip';
    const payload = coded ? zlib.gzipSync(BODY) : BODY;
    const resp = ResponseHeader.build(200);
    resp.insertHeader('Content-Type', 'text/html; charset=utf-8');
    resp.insertHeader('Content-Length', payload.length);
    resp.insertHeader('ETag', '"abc"');
    if (coded) resp.insertHeader('Content-Encoding', 'gzip');
    m.responseHeaderFilter(resp, false);
    res.writeHead(resp.status, resp.rawHeaders);
    const stream = m.responseBodyStream();
    // Ten writes, as an upstream body arrives in pieces.
    const tenth = Math.ceil(payload.length / 10);
    const pieces = Array.from({ length: 10 }, (_, i) => payload.subarray(i * tenth, (i + 1) * tenth));
    const done =
      stream === undefined
        ? pipeline(Readable.from(pieces), res)
        : pipeline(Readable.from(pieces), stream, res);
    done.then(
      () => infos.push(m.getInfo()),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  onClose(() => new Promise((resolve) => srv.close(resolve)));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, infos };
}

/** curl's view: response headers (lowercased names) and the decoded body. */
async function curl(url: string, args: string[]): Promise<{ headers: Map<string, string>; body: Buffer }> {
  // -i: the head, a blank line, then the (decoded) body, all on stdout.
  const { stdout } = await run('curl', ['-sS', '-i', '--max-time', '30', ...args, url], {
    encoding: 'buffer',
    maxBuffer: 16 * 1024 * 1024,
  });
  const split = stdout.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of stdout.subarray(0, split).toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: stdout.subarray(split + 4) };
}

describe('curl decodes what the module sends', () => {
  const codings = ZSTD_AVAILABLE ? ['gzip', 'br', 'zstd'] : ['gzip', 'br'];

  it.each(codings)('%s', async (coding) => {
    const { url, infos } = await server();
    const { headers, body } = await curl(`${url}/`, ['--compressed', '-H', `Accept-Encoding: ${coding}`]);
    expect(body.equals(BODY)).toBe(true);
    expect(headers.get('content-encoding')).toBe(coding);
    expect(headers.get('transfer-encoding')).toBe('chunked');
    expect(headers.has('content-length')).toBe(false);
    expect(headers.get('vary')).toBe('Accept-Encoding');
    expect(headers.get('etag')).toBe('W/"abc"');
    // The server records the figures once its side of the pipeline settled.
    await waitFor(() => infos.length > 0, { message: 'the server to finish the response' });
    const info = infos.find((i) => i.algorithm === coding);
    expect(info).toMatchObject({ action: 'compress', bytesIn: BODY.length });
    expect(info!.bytesOut).toBeLessThan(BODY.length / 4);
  });

  it("curl's default --compressed offer gets the server's preferred coding", async () => {
    const { url } = await server();
    const { headers, body } = await curl(`${url}/`, ['--compressed']);
    expect(body.equals(BODY)).toBe(true);
    // curl offers "deflate, gzip, br, zstd" (all it was built with), all weighted 1.
    expect(headers.get('content-encoding')).toBe(ZSTD_AVAILABLE ? 'zstd' : 'br');
  });

  it('a client without --compressed gets the plain body, even from a gzip upstream', async () => {
    const { url } = await server();
    for (const path of ['/', '/gzip']) {
      const { headers, body } = await curl(`${url}${path}`, []);
      expect(body.equals(BODY)).toBe(true);
      expect(headers.has('content-encoding')).toBe(false);
      expect(headers.get('vary')).toBe('Accept-Encoding');
    }
  });
});
