import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requestFromH2, responseFromH2, toH2RequestHeaders, toH2ResponseHeaders } from './h2.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';
import { requestHeadToWire, responseHeadToWire } from './wire.js';

describe('requestFromH2', () => {
  it('reads a raw array: pseudo-headers out, :authority as the first host field, cookies joined', () => {
    // biome-ignore format: one name/value pair per line
    const raw = [
      ':method', 'POST',
      ':path', '/api?x=1',
      ':scheme', 'https',
      ':authority', 'example.com',
      'cookie', 'a=1',
      'content-type', 'application/json',
      'cookie', 'b=2',
      'x-dup', '1',
      'x-dup', '2',
    ];
    const req = requestFromH2(raw);
    expect([req.method, req.uri, req.version, req.hasCase()]).toEqual(['POST', '/api?x=1', '2', false]);
    // biome-ignore format: one name/value pair per line
    expect(req.rawHeaders).toEqual([
      'host', 'example.com',
      'cookie', 'a=1; b=2',
      'content-type', 'application/json',
      'x-dup', '1',
      'x-dup', '2',
    ]);
    expect(req.sendEndStream()).toBe(true);
    req.setVersion('1.1');
    expect(requestHeadToWire(req).toString('latin1')).toBe(
      'POST /api?x=1 HTTP/1.1\r\nHost: example.com\r\ncookie: a=1; b=2\r\nContent-Type: application/json\r\nx-dup: 1\r\nx-dup: 2\r\n\r\n',
    );
  });

  it("reads Node's header object; :authority wins over host", () => {
    const req = requestFromH2({
      ':method': 'GET',
      ':path': '/',
      ':authority': 'a.example',
      ':scheme': 'http',
      host: 'b.example',
      'set-cookie': ['x', 'y'],
      'content-length': 0,
    });
    expect(req.rawHeaders).toEqual([
      'host',
      'a.example',
      'set-cookie',
      'x',
      'set-cookie',
      'y',
      'content-length',
      '0',
    ]);
  });

  it('keeps a host field when there is no :authority, and none when neither exists', () => {
    expect(requestFromH2([':method', 'GET', ':path', '/', 'host', 'h']).rawHeaders).toEqual(['host', 'h']);
    expect(requestFromH2([':method', 'GET', ':path', '/', 'x', '1']).rawHeaders).toEqual(['x', '1']);
  });

  it('CONNECT takes its target from :authority', () => {
    const req = requestFromH2([':method', 'CONNECT', ':authority', 'db.internal:5432']);
    expect(req.uri).toBe('db.internal:5432');
  });

  it('throws without :method or :path', () => {
    expect(() => requestFromH2([':path', '/'])).toThrowError(/missing :method/);
    expect(() => requestFromH2([':method', 'GET'])).toThrowError(/missing :path/);
  });
});

describe('responseFromH2', () => {
  it('reads :status and the fields', () => {
    const resp = responseFromH2([':status', '404', 'content-type', 'text/plain', 'server', 's']);
    expect([resp.status, resp.version, resp.getReasonPhrase()]).toEqual([404, '2', 'Not Found']);
    resp.setVersion('1.1');
    expect(responseHeadToWire(resp).toString('latin1')).toBe(
      'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nServer: s\r\n\r\n',
    );
    expect(responseFromH2({ ':status': 204 }).status).toBe(204);
  });

  it('throws without a valid :status', () => {
    expect(() => responseFromH2(['content-type', 'x'])).toThrowError(/invalid :status/);
    expect(() => responseFromH2([':status', '2000'])).toThrowError(/invalid :status/);
  });
});

describe('toH2RequestHeaders', () => {
  it('maps to pseudo-headers, lowercases, drops connection-specific fields, keeps te: trailers', () => {
    // biome-ignore format: one name/value pair per line
    const req = RequestHeader.fromRaw('GET', '/p?q', [
      'Host', 'example.com',
      'Connection', 'keep-alive, X-Hop',
      'Keep-Alive', '5',
      'Proxy-Connection', 'x',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'TE', 'trailers, deflate',
      'X-Hop', 'gone',
      'Accept', 'a',
      'accept', 'b',
    ]);
    const h = toH2RequestHeaders(req);
    expect(Object.getPrototypeOf(h)).toBeNull();
    expect({ ...h }).toEqual({
      ':method': 'GET',
      ':scheme': 'https',
      ':authority': 'example.com',
      ':path': '/p?q',
      te: 'trailers',
      accept: ['a', 'b'],
    });
  });

  it('uses an absolute-form authority when there is no Host, and the path only', () => {
    const req = RequestHeader.build('GET', 'http://origin.example:8080/x?y=1');
    expect({ ...toH2RequestHeaders(req, { scheme: 'http' }) }).toEqual({
      ':method': 'GET',
      ':scheme': 'http',
      ':authority': 'origin.example:8080',
      ':path': '/x?y=1',
    });
  });

  it('throws without any authority, as Pingora does', () => {
    expect(() => toH2RequestHeaders(RequestHeader.build('GET', '/'))).toThrowError(
      /no authority header for h2/,
    );
  });

  it('CONNECT sends only :method and :authority', () => {
    const req = RequestHeader.build('CONNECT', 'db.internal:5432');
    req.appendHeader('Host', 'db.internal:5432');
    expect({ ...toH2RequestHeaders(req) }).toEqual({
      ':method': 'CONNECT',
      ':authority': 'db.internal:5432',
    });
  });

  it('a field named __proto__ stays a plain field', () => {
    const req = RequestHeader.fromRaw('GET', '/', ['Host', 'h', '__proto__', 'x']);
    const h = toH2RequestHeaders(req);
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(h)).toBeNull();
  });
});

describe('toH2ResponseHeaders', () => {
  it('maps status and fields, drops Connection and what it names and a close field', () => {
    const resp = ResponseHeader.fromRaw(200, [
      'Content-Type',
      'text/plain',
      'Connection',
      'close, X-Internal',
      'X-Internal',
      '1',
      'Close',
      'c',
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
    ]);
    expect({ ...toH2ResponseHeaders(resp) }).toEqual({
      ':status': 200,
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
    });
  });
});

describe('over a real HTTP/2 connection', () => {
  let server: http2.Http2Server | undefined;
  let client: http2.ClientHttp2Session | undefined;

  afterEach(async () => {
    client?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = client = undefined;
  });

  it('round-trips an H1-style request and response through Node http2', async () => {
    const seen: RequestHeader[] = [];
    server = http2.createServer();
    server.on('stream', (stream: http2.ServerHttp2Stream, _h: unknown, _f: number, rawHeaders: string[]) => {
      const req = requestFromH2(rawHeaders);
      seen.push(req);
      const resp = ResponseHeader.build(201);
      resp.appendHeader('Content-Type', 'text/plain');
      resp.appendHeader('Connection', 'close');
      resp.appendHeader('X-Multi', '1');
      resp.appendHeader('X-Multi', '2');
      stream.respond(toH2ResponseHeaders(resp));
      stream.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', () => {});

    // A request as an H1 client would send it, hop-by-hop fields included: Node's http2 would
    // refuse Connection/Keep-Alive/Transfer-Encoding, so the conversion must drop them.
    // biome-ignore format: one name/value pair per line
    const h1 = RequestHeader.fromRaw('PUT', '/up?x=1', [
      'Host', `127.0.0.1:${port}`,
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'Transfer-Encoding', 'chunked',
      'Cookie', 'a=1',
      'X-Trace', 't',
    ]);
    const req = client.request(toH2RequestHeaders(h1, { scheme: 'http' }));
    const response = await new Promise<ResponseHeader>((resolve, reject) => {
      req.on('response', (_h: unknown, _f: number, raw: string[]) => resolve(responseFromH2(raw)));
      req.on('error', reject);
    });
    req.resume();
    req.end();
    await new Promise((resolve) => req.on('close', resolve));

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.getAll('x-multi')).toEqual(['1', '2']);
    expect(response.headers.has('connection')).toBe(false);

    expect(seen).toHaveLength(1);
    const got = seen[0]!;
    expect([got.method, got.uri, got.version]).toEqual(['PUT', '/up?x=1', '2']);
    expect(got.rawHeaders).toEqual(['host', `127.0.0.1:${port}`, 'cookie', 'a=1', 'x-trace', 't']);
  });
});
