import type { ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, rawRequest, request, startOrigin, startProxy, waitFor } from '../test/helpers.js';
import type { ProxyHttp } from './index.js';

afterEach(closeAll);

describe('phase order and effects', () => {
  it('runs the phases of a proxied GET in Pingora order, once each', async () => {
    const origin = await startOrigin((_req, res) => res.end('hi'));
    const calls: string[] = [];
    const proxy: ProxyHttp<{ n: number }> = {
      newCtx: () => {
        calls.push('newCtx');
        return { n: 0 };
      },
      earlyRequestFilter: () => void calls.push('earlyRequestFilter'),
      requestFilter: () => {
        calls.push('requestFilter');
        return false;
      },
      proxyUpstreamFilter: () => {
        calls.push('proxyUpstreamFilter');
        return true;
      },
      upstreamPeer: () => {
        calls.push('upstreamPeer');
        return origin.peer();
      },
      connectedToUpstream: () => void calls.push('connectedToUpstream'),
      upstreamRequestFilter: () => void calls.push('upstreamRequestFilter'),
      upstreamResponseFilter: () => void calls.push('upstreamResponseFilter'),
      responseFilter: () => void calls.push('responseFilter'),
      upstreamResponseBodyFilter: (_s, _b, eos) => void calls.push(`upstreamResponseBodyFilter:${eos}`),
      responseBodyFilter: (_s, _b, eos) => void calls.push(`responseBodyFilter:${eos}`),
      logging: (_s, e) => void calls.push(`logging:${e === undefined}`),
    };
    const p = await startProxy(proxy);
    const r = await request(p.url('/x'));
    expect(r.body).toBe('hi');
    await waitFor(() => calls.includes('logging:true'));
    expect(calls).toEqual([
      'newCtx',
      'earlyRequestFilter',
      'requestFilter',
      'proxyUpstreamFilter',
      'upstreamPeer',
      'connectedToUpstream',
      'upstreamRequestFilter',
      'upstreamResponseFilter',
      'responseFilter',
      'upstreamResponseBodyFilter:false',
      'responseBodyFilter:false',
      'upstreamResponseBodyFilter:true',
      'responseBodyFilter:true',
      'logging:true',
    ]);
  });

  it('requestFilter returning true answers without an upstream', async () => {
    const origin = await startOrigin((_req, res) => res.end('origin'));
    let peerAsked = false;
    const p = await startProxy({
      async requestFilter(session) {
        if (session.reqHeader().uri === '/blocked') {
          session.respondErrorWithBody(403, 'no');
          return true;
        }
        return false;
      },
      upstreamPeer: () => {
        peerAsked = true;
        return origin.peer();
      },
    });
    const r = await request(p.url('/blocked'));
    expect(r.status).toBe(403);
    expect(r.body).toBe('no');
    expect(peerAsked).toBe(false);
    expect(origin.connections).toBe(0);
    expect((await request(p.url('/ok'))).body).toBe('origin');
  });

  it('proxyUpstreamFilter returning false answers the canned 502', async () => {
    const origin = await startOrigin((_req, res) => res.end('origin'));
    const p = await startProxy({ proxyUpstreamFilter: () => false, upstreamPeer: () => origin.peer() });
    const r = await request(p.url('/'));
    expect(r.status).toBe(502);
    expect(r.headers['content-length']).toBe('0');
    expect(r.headers['cache-control']).toBe('private, no-store');
    expect(origin.connections).toBe(0);
  });

  it('upstreamRequestFilter edits a copy sent upstream; hop-by-hop fields are stripped', async () => {
    let seen: string[] = [];
    const origin = await startOrigin((req, res) => {
      seen = req.rawHeaders;
      res.end();
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      upstreamRequestFilter(session, up) {
        up.insertHeader('Host', 'origin.internal');
        up.appendHeader('X-Added', '1');
        expect(session.reqHeader().headers.get('host')).not.toBe('origin.internal');
      },
    });
    await rawRequest(
      p.port,
      'GET / HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\nX-Keep: k\r\n\r\n',
    );
    expect(seen).toEqual(['Host', 'origin.internal', 'X-Keep', 'k', 'X-Added', '1']);
  });

  it('response filters edit headers; a body filter changes the body and framing stays correct', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/plain',
        'Content-Length': '5',
        'X-Drop': 'x',
        Connection: 'X-Hop',
        'X-Hop': 'h',
      });
      res.end('hello');
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      upstreamResponseFilter: (_s, resp) => void resp.removeHeader('X-Drop'),
      responseFilter: async (_s, resp: ResponseHeader) => {
        await Promise.resolve();
        resp.insertHeader('Server', 'pingora-ts');
      },
      responseBodyFilter: (_s, body) =>
        body ? Buffer.from(body.toString().toUpperCase().repeat(3)) : undefined,
    });
    const r = await request(p.url('/'));
    expect(r.body).toBe('HELLOHELLOHELLO');
    expect(r.headers['x-drop']).toBeUndefined();
    expect(r.headers['x-hop']).toBeUndefined();
    expect(r.headers.server).toBe('pingora-ts');
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.headers['transfer-encoding']).toBe('chunked');
  });

  it('a body filter may drop chunks and append a final one at end of stream', async () => {
    // Each write waits until the filter has seen the previous one, so TCP cannot join 'SECRET'
    // to its neighbours into one chunk (which the filter would then pass through).
    const seen: string[] = [];
    const origin = await startOrigin(async (_req, res) => {
      res.write('a');
      await waitFor(() => seen.includes('a'), { message: "the filter to see 'a'" });
      res.write('SECRET');
      await waitFor(() => seen.includes('SECRET'), { message: "the filter to see 'SECRET'" });
      res.end('b');
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      responseBodyFilter: (_s, body, eos) => {
        if (body) seen.push(body.toString());
        if (eos) return Buffer.from('!');
        return body?.toString() === 'SECRET' ? null : undefined;
      },
    });
    const r = await request(p.url('/'));
    expect(r.body.replace('SECRET', '')).toBe(r.body);
    expect(r.body).toMatch(/^a.*b!$/);
  });

  it('requestBodyFilter rewrites the request body; the upstream request goes chunked', async () => {
    let got = '';
    let te: string | undefined;
    const origin = await startOrigin((req, res) => {
      te = req.headers['transfer-encoding'];
      req.on('data', (c) => (got += c));
      req.on('end', () => res.end('ok'));
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      requestBodyFilter: async (_s, body, eos) => {
        if (eos) return Buffer.from('[end]');
        return body ? Buffer.from(body.toString().replaceAll('a', 'b')) : undefined;
      },
    });
    const r = await request(p.url('/'), { method: 'POST', body: 'banana' });
    expect(r.body).toBe('ok');
    expect(got).toBe('bbnbnb[end]');
    expect(te).toBe('chunked');
  });

  it('upstream trailers reach the client through the trailer filters', async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { Trailer: 'X-Checksum' });
      res.write('data');
      res.addTrailers({ 'X-Checksum': 'abc' });
      res.end();
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      upstreamResponseTrailerFilter: (_s, t) => void t.push('X-Proxy-Trailer', '1'),
    });
    const r = await request(p.url('/'));
    expect(r.body).toBe('data');
    expect(r.trailers['x-checksum']).toBe('abc');
    expect(r.trailers['x-proxy-trailer']).toBe('1');
  });

  it('logging runs for requests answered in requestFilter, and ctx flows between phases', async () => {
    const logged: Array<[number | undefined, string]> = [];
    const p = await startProxy<{ tag: string }>({
      newCtx: () => ({ tag: '' }),
      requestFilter(session, ctx) {
        ctx.tag = 'answered';
        session.respondError(204);
        return true;
      },
      upstreamPeer: () => {
        throw new Error('not reached');
      },
      logging: (session, _e, ctx) => void logged.push([session.responseWritten()?.status, ctx.tag]),
    });
    const r = await request(p.url('/'));
    expect(r.status).toBe(204);
    await waitFor(() => logged.length === 1);
    expect(logged).toEqual([[204, 'answered']]);
  });
});
