import http from 'node:http';
import net from 'node:net';
import { Transform } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { HttpModule, HttpModuleBuilder } from '@pingora-ts/core';
import { HttpPeer, ResponseCompression, ResponseCompressionBuilder } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { deadPort } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, request, startOrigin, startProxy, waitFor } from '../test/helpers.js';
import type { ProxyHttp } from './index.js';

afterEach(closeAll);

let nextId = 0;

/** Appends its name to `x-modules` on the request and the response; counts its instances. */
class Tagger implements HttpModule {
  readonly id = ++nextId;
  constructor(readonly name: string) {}
  requestHeaderFilter(req: RequestHeader): void {
    const had = req.headers.get('x-modules');
    req.insertHeader('x-modules', had === undefined ? this.name : `${had},${this.name}`);
  }
  responseHeaderFilter(resp: ResponseHeader): void {
    const had = resp.headers.get('x-modules');
    resp.insertHeader('x-modules', had === undefined ? this.name : `${had},${this.name}`);
    resp.insertHeader(`x-id-${this.name}`, String(this.id));
  }
}

class TaggerBuilder implements HttpModuleBuilder<Tagger> {
  constructor(
    readonly name: string,
    readonly order: number,
  ) {}
  init(): Tagger {
    return new Tagger(this.name);
  }
}

/** Another builder class: one builder per class is kept, so this one does not replace a TaggerBuilder. */
class LowTaggerBuilder extends TaggerBuilder {}

/** Basic auth as a module: a request without the credentials fails with 401. */
class BasicAuth implements HttpModule {
  constructor(private readonly expected: string) {}
  requestHeaderFilter(req: RequestHeader): void {
    if (req.headers.get('authorization') !== this.expected) {
      throw PingoraError.explain(ErrorType.HTTPStatus(401), 'missing or wrong credentials');
    }
  }
}

describe('downstream modules on proxied requests', () => {
  it('runs in order, one instance per request, editing the upstream request', async () => {
    const seen: Array<string | undefined> = [];
    const origin = await startOrigin((req, res) => {
      seen.push(req.headers['x-modules'] as string | undefined);
      res.end('ok');
    });
    const order: string[] = [];
    const p = await startProxy({
      initDownstreamModules(modules) {
        modules.addModule(new LowTaggerBuilder('low', -1));
        modules.addModule(new TaggerBuilder('replaced', 5));
        modules.addModule(new TaggerBuilder('high', 5));
        modules.addModule({ init: () => new Tagger('mid') });
      },
      earlyRequestFilter: (s) => void order.push(`early:${s.reqHeader().headers.get('x-modules')}`),
      requestFilter: (s) => {
        order.push(`request:${s.reqHeader().headers.get('x-modules')}`);
        return false;
      },
      responseFilter: (_s, resp) => void order.push(`response:${resp.headers.get('x-modules')}`),
      upstreamPeer: () => origin.peer(),
    });
    const one = await request(p.url('/'));
    const two = await request(p.url('/'));
    expect(one.body).toBe('ok');
    expect(seen).toEqual(['high,mid,low', 'high,mid,low']);
    // Request header filters run after earlyRequestFilter and before requestFilter; response
    // header filters after responseFilter.
    expect(order.slice(0, 3)).toEqual(['early:undefined', 'request:high,mid,low', 'response:undefined']);
    expect(one.headers['x-modules']).toBe('high,mid,low');
    expect(one.headers['x-id-high']).not.toBe(two.headers['x-id-high']);
    expect(one.headers['x-id-mid']).not.toBe(two.headers['x-id-mid']);
  });

  it('a module answers 401 before requestFilter and the origin is not contacted', async () => {
    const origin = await startOrigin((_req, res) => res.end('secret'));
    let requestFilterRan = 0;
    const p = await startProxy({
      initDownstreamModules(modules) {
        modules.addModule({ init: () => new BasicAuth(`Basic ${Buffer.from('u:pw').toString('base64')}`) });
      },
      requestFilter: () => {
        requestFilterRan++;
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const denied = await request(p.url('/'));
    expect(denied.status).toBe(401);
    const wrong = await request(p.url('/'), { auth: 'u:nope' });
    expect(wrong.status).toBe(401);
    expect(origin.connections).toBe(0);
    expect(requestFilterRan).toBe(0);
    const ok = await request(p.url('/'), { auth: 'u:pw' });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('secret');
    await waitFor(() => p.logs.some((l) => l.msg.includes('downstream modules requestHeaderFilter failed')));
  });

  it('response header, body and trailer filters see what the user filters left', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', Trailer: 'x-sum' });
      res.addTrailers({ 'x-sum': 'abc' });
      res.end('hello world');
    });
    class Shout implements HttpModule {
      responseHeaderFilter(resp: ResponseHeader): void {
        resp.insertHeader('x-shout', resp.headers.get('x-user') ?? 'none');
      }
      responseBodyFilter(body: Buffer | undefined, end: boolean): Buffer | undefined {
        if (end) return Buffer.concat([body ?? Buffer.alloc(0), Buffer.from('!')]);
        return body === undefined ? undefined : Buffer.from(body.toString().toUpperCase());
      }
      responseTrailerFilter(trailers: string[]): void {
        trailers.push('x-module', 'seen');
      }
    }
    const p = await startProxy({
      initDownstreamModules: (modules) => modules.addModule({ init: () => new Shout() }),
      responseFilter: (_s, resp) => void resp.insertHeader('x-user', 'yes'),
      responseBodyFilter: (_s, body) =>
        body === undefined ? undefined : Buffer.from(body.toString().replace('world', 'there')),
      upstreamPeer: () => origin.peer(),
    });
    const r = await request(p.url('/'));
    expect(r.headers['x-shout']).toBe('yes');
    expect(r.body).toBe('HELLO THERE!');
    // The body changed length: the origin's Content-Length is gone, the response is chunked.
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.trailers).toEqual({ 'x-sum': 'abc', 'x-module': 'seen' });
  });

  it('a module stream rewrites the body with backpressure and the trailers follow it', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked', Trailer: 'x-t' });
      res.addTrailers({ 'x-t': '1' });
      res.write('abc');
      res.end('def');
    });
    class Upper implements HttpModule {
      responseBodyStream() {
        return new Transform({
          transform(chunk: Buffer, _e, cb) {
            cb(null, Buffer.from(chunk.toString().toUpperCase()));
          },
          flush(cb) {
            cb(null, Buffer.from('<end>'));
          },
        });
      }
    }
    const p = await startProxy({
      initDownstreamModules: (modules) => modules.addModule({ init: () => new Upper() }),
      upstreamPeer: () => origin.peer(),
    });
    const r = await request(p.url('/'));
    expect(r.body).toBe('ABCDEF<end>');
    expect(r.trailers['x-t']).toBe('1');
    // A body-less answer gets no stream.
    const head = await request(p.url('/'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('a module stream that fails mid-body aborts the response: no retry, done once, the error logged', async () => {
    let originRes: import('node:http').ServerResponse | undefined;
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '8' });
      res.write('ok--');
      originRes = res;
    });
    let done = 0;
    let logged: PingoraError | undefined;
    class Failing implements HttpModule {
      responseBodyStream() {
        return new Transform({
          transform(chunk: Buffer, _e, cb) {
            if (chunk.includes('boom')) cb(new Error('encoder broke'));
            else cb(null, chunk);
          },
        });
      }
      responseDoneFilter() {
        done++;
      }
    }
    const p = await startProxy({
      initDownstreamModules: (modules) => modules.addModule({ init: () => new Failing() }),
      upstreamPeer: () => origin.peer(),
      logging(_s, e) {
        logged = e;
      },
    });
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    let got = '';
    client.on('data', (d) => (got += d.toString('latin1')));
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    // The rest of the body (which breaks the stream) only once the client has the first part.
    await waitFor(() => got.includes('ok--'));
    originRes!.end('boom');
    await closed;
    // The head went out chunked (the stream may change the length), then the connection was cut
    // before the terminating chunk: the client cannot take it for a complete response.
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(got).toMatch(/transfer-encoding: chunked/i);
    expect(got).not.toMatch(/\r\n0\r\n\r\n$/);
    await waitFor(() => logged !== undefined);
    expect(String(logged)).toContain('downstream modules stream failed');
    expect(logged!.retry()).toBe(false);
    expect(done).toBe(1);
  });

  it('request body filters of modules run before the user one', async () => {
    let got = '';
    const origin = await startOrigin((req, res) => {
      req.on('data', (c) => (got += c));
      req.on('end', () => res.end('ok'));
    });
    const p = await startProxy({
      initDownstreamModules: (modules) =>
        modules.addModule({
          init: () => ({
            requestBodyFilter: (b: Buffer | undefined, end: boolean) =>
              end ? Buffer.from(`${b?.toString() ?? ''}[m]`) : Buffer.from(`${b?.toString()}<m>`),
          }),
        }),
      requestBodyFilter: (_s, b) =>
        b === undefined ? undefined : Buffer.from(b.toString().replace('<m>', '<m><u>')),
      upstreamPeer: () => origin.peer(),
    });
    const r = await request(p.url('/'), { method: 'POST', body: 'data', headers: { 'content-length': '4' } });
    expect(r.body).toBe('ok');
    expect(got).toBe('data<m><u>[m]');
  });
});

describe('responseDoneFilter', () => {
  function counting(): { done: number[]; proxy: Pick<ProxyHttp, 'initDownstreamModules'> } {
    const done: number[] = [];
    let n = 0;
    return {
      done,
      proxy: {
        initDownstreamModules: (modules) =>
          modules.addModule({
            init: () => {
              const id = n++;
              return { responseDoneFilter: () => void done.push(id) };
            },
          }),
      },
    };
  }

  it('runs once on success and once on an upstream error', async () => {
    const origin = await startOrigin((_req, res) => res.end('x'));
    const c = counting();
    let logged = 0;
    let dead = false;
    const port = await deadPort();
    const p = await startProxy({
      ...c.proxy,
      upstreamPeer: () => (dead ? new HttpPeer(`127.0.0.1:${port}`, false, '') : origin.peer()),
      logging: () => void logged++,
    });
    expect((await request(p.url('/'))).status).toBe(200);
    await waitFor(() => logged === 1);
    expect(c.done).toEqual([0]);
    dead = true;
    expect((await request(p.url('/'))).status).toBe(502);
    await waitFor(() => logged === 2);
    expect(c.done).toEqual([0, 1]);
  });

  it('runs once when the client goes away mid-body, and the upstream connection is dropped', async () => {
    let upstreamClosed = false;
    const origin = await startOrigin((req, res) => {
      req.socket.on('close', () => (upstreamClosed = true));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first chunk');
    });
    const c = counting();
    let logged = 0;
    const p = await startProxy({
      ...c.proxy,
      upstreamPeer: () => origin.peer(),
      logging: () => void logged++,
    });
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    let got = '';
    client.on('data', (d) => (got += d));
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => got.includes('first chunk'));
    client.destroy();
    await waitFor(() => logged === 1);
    expect(c.done).toEqual([0]);
    await waitFor(() => upstreamClosed);
  });
});

describe('registry defaults', () => {
  it('without initDownstreamModules: disabled compression, Content-Length kept', async () => {
    const body = 'x'.repeat(4096);
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) });
      res.end(body);
    });
    let compression: ResponseCompression | undefined;
    const p = await startProxy({
      requestFilter(session) {
        compression = session.downstreamCompression;
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    expect(p.proxy.downstreamModules.size).toBe(1);
    const r = await request(p.url('/'), { headers: { 'accept-encoding': 'gzip' } });
    expect(compression).toBeInstanceOf(ResponseCompression);
    expect(compression!.isEnabled()).toBe(false);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(r.body).toBe(body);
  });

  it('an initDownstreamModules that adds nothing leaves the request without modules', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    let seen: unknown = 'unset';
    const p = await startProxy({
      initDownstreamModules() {},
      requestFilter(session) {
        seen = [session.downstreamModules, session.downstreamCompression];
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    expect(p.proxy.downstreamModules.isEmpty).toBe(true);
    expect((await request(p.url('/'))).body).toBe('ok');
    expect(seen).toEqual([undefined, undefined]);
  });
});

describe('responses the user writes', () => {
  const TEXT = 'a fairly compressible line of text\n'.repeat(300);

  it('go through the modules, compression included; respondError does not', async () => {
    let done = 0;
    class Stamp implements HttpModule {
      async responseHeaderFilter(resp: ResponseHeader): Promise<void> {
        await Promise.resolve();
        resp.insertHeader('x-stamp', 'module');
      }
      responseDoneFilter(): void {
        done++;
      }
    }
    let logged = 0;
    const p = await startProxy({
      initDownstreamModules(modules) {
        modules.addModule(ResponseCompressionBuilder.enable(6));
        modules.addModule({ init: () => new Stamp() });
      },
      requestFilter(session) {
        if (session.reqHeader().uri === '/denied') {
          session.respondError(403);
          return true;
        }
        const resp = ResponseHeader.build(200);
        resp.insertHeader('Content-Type', 'text/plain');
        resp.insertHeader('Content-Length', String(TEXT.length));
        session.writeResponseHeader(resp, false);
        // Written while the async module header filter still runs: held, then sent in order.
        session.writeResponseBody(Buffer.from(TEXT.slice(0, 100)), false);
        session.writeResponseBody(Buffer.from(TEXT.slice(100)), true);
        return true;
      },
      upstreamPeer: () => {
        throw new Error('not used');
      },
      logging: () => void logged++,
    });
    const gz = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      http
        .get(p.url('/'), { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    expect(gz.headers['x-stamp']).toBe('module');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-length']).toBeUndefined();
    expect(gunzipSync(gz.body).toString()).toBe(TEXT);
    const plain = await request(p.url('/'));
    expect(plain.body).toBe(TEXT);
    expect(plain.headers['content-length']).toBe(String(TEXT.length));
    const denied = await request(p.url('/denied'));
    expect(denied.status).toBe(403);
    expect(denied.headers['x-stamp']).toBeUndefined();
    await waitFor(() => logged === 3);
    expect(done).toBe(3);
  });
});
