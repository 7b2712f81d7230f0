import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { closeAll, deadPort, rawRequest, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from './test-harness.js';

afterEach(closeAll);

const say = (body: string) => ({ respond: { body } });

describe('gatewayProxy: routing', () => {
  async function router() {
    const origin = await startOrigin((req, res) => res.end(`origin ${req.url}`));
    return startGateway({
      upstreams: { app: { backends: [origin.addr] } },
      routes: [
        { match: { host: '*.example.com', path_prefix: '/api' }, ...say('wild-api') },
        { match: { host: ['example.com', 'example.org'] }, ...say('apex') },
        { match: { path: '/exact', method: 'POST' }, ...say('exact-post') },
        { match: { path_regex: '^/items/[0-9]+$' }, ...say('item') },
        { match: { path: '/page', method: 'GET' }, ...say('page') },
        { match: { headers: { 'x-beta': '1' } }, ...say('beta') },
        { match: { headers: { 'x-present': true, 'x-absent': false } }, ...say('present') },
        { match: { path_prefix: '/proxy' }, upstream: 'app' },
      ],
    });
  }

  it('takes the first route whose host, path, method and headers all fit', async () => {
    const gw = await router();
    const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      (await request(gw.url(path), { method, headers })).body;
    expect(await get('/api/users', { host: 'A.Example.COM:8080' })).toBe('wild-api');
    expect(await get('/apix', { host: 'deep.a.example.com' })).toBe('wild-api'); // plain prefix
    expect(await get('/api', { host: 'example.com' })).toBe('apex'); // the wildcard skips the apex
    expect(await get('/', { host: 'EXAMPLE.org' })).toBe('apex');
    expect(await get('/exact?x=1', {}, 'POST')).toBe('exact-post');
    expect(await get('/items/12')).toBe('item');
    expect(await get('/x', { 'x-beta': '1' })).toBe('beta');
    expect(await get('/x', { 'x-beta': '2', 'x-present': 'y' })).toBe('present');
    // An empty header is as good as absent: `true` wants a value, `false` admits the empty one.
    expect(await get('/x', { 'x-beta': '2', 'x-present': 'y', 'x-absent': ' ' })).toBe('present');
    expect(await get('/nothing', { 'x-present': '' })).toBe('Not Found\n');
    expect(await get('/proxy/a?b=c')).toBe('origin /proxy/a?b=c');
  });

  it('answers 404 when no route fits', async () => {
    const gw = await router();
    for (const [path, method] of [
      ['/exact', 'GET'],
      ['/exact/more', 'POST'],
      ['/items/12a', 'GET'],
      ['/page', 'POST'],
      ['/nothing', 'GET'],
    ] as const) {
      const r = await request(gw.url(path), { method, headers: { 'x-absent': '1', 'x-present': 'y' } });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body).toBe('Not Found\n');
    }
  });

  it('GET admits HEAD', async () => {
    const gw = await router();
    const r = await request(gw.url('/page'), { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('4');
    expect(r.body).toBe('');
  });

  it('matches on the normalized path: escapes, dot segments and double slashes cannot dodge a route', async () => {
    const gw = await router();
    const host = 'a.example.com';
    for (const target of ['/%61pi/x', '/x/../api/y', '//api', '/./api', '/%2e%2e/api']) {
      const res = await rawRequest(
        gw.port,
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(res, target).toMatch(/^HTTP\/1\.1 200/);
      expect(res, target).toContain('wild-api');
    }
  });

  it('with no routes and one upstream, every request goes to it', async () => {
    const origin = await startOrigin((req, res) => res.end(`only ${req.method} ${req.url}`));
    const gw = await startGateway({ upstreams: { only: { backends: [origin.addr] } } });
    expect(gw.routes.map((r) => r.name)).toEqual(['default']);
    expect((await request(gw.url('/any/path?q=1'), { method: 'DELETE' })).body).toBe(
      'only DELETE /any/path?q=1',
    );
  });
});

describe('gatewayProxy: responders', () => {
  it('respond: status, headers, Content-Length and a default Content-Type', async () => {
    const gw = await startGateway({
      routes: [
        {
          match: { path: '/teapot' },
          respond: { status: 418, body: 'short and stout', headers: { 'X-Kind': 'tea' } },
        },
        {
          match: { path: '/json' },
          respond: { body: '{}', headers: { 'content-type': 'application/json' } },
        },
        { match: { path: '/empty' }, respond: { status: 204 } },
      ],
    });
    const tea = await request(gw.url('/teapot'));
    expect(tea.status).toBe(418);
    expect(tea.body).toBe('short and stout');
    expect(tea.headers['content-length']).toBe('15');
    expect(tea.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(tea.raw).toContain('X-Kind');
    const json = await request(gw.url('/json'));
    expect(json.headers['content-type']).toBe('application/json');
    const empty = await request(gw.url('/empty'));
    expect(empty.status).toBe(204);
    expect(empty.headers['content-length']).toBeUndefined();
  });

  it('redirect: $uri and $path substituted, status kept', async () => {
    const gw = await startGateway({
      routes: [
        { match: { path_prefix: '/old' }, redirect: { to: 'https://new.example$uri', status: 301 } },
        { match: { path_prefix: '/p' }, redirect: { to: '/landing?from=$path' } },
      ],
    });
    const a = await request(gw.url('/old/a?x=1'));
    expect(a.status).toBe(301);
    expect(a.headers.location).toBe('https://new.example/old/a?x=1');
    expect(a.headers['content-length']).toBe('0');
    const b = await request(gw.url('/p/q?z=2'));
    expect(b.status).toBe(302);
    expect(b.headers.location).toBe('/landing?from=/p/q');
  });

  it('response header rules apply to answers too', async () => {
    const gw = await startGateway({
      routes: [
        {
          respond: { body: 'hi', headers: { 'x-drop': '1' } },
          response_headers: { remove: ['x-drop'], set: { 'x-added': 'yes' } },
        },
      ],
    });
    const r = await request(gw.url('/'));
    expect(r.headers['x-drop']).toBeUndefined();
    expect(r.headers['x-added']).toBe('yes');
  });

  // Fails on @pingora-ts/proxy's ModuleResponseWriter.stageEnd, which drops the compressor's last
  // output (the gzip trailer) for responses written from requestFilter; flip to `it` once fixed.
  it('compression: true gzips a compressible answer for a client that accepts it', async () => {
    const body = 'all work and no play '.repeat(200);
    const gw = await startGateway({ routes: [{ respond: { body }, compression: true }] });
    const r = await fetchBytes(gw.url('/'), { 'accept-encoding': 'gzip' });
    expect(r.enc).toBe('gzip');
    expect(r.bytes.length).toBeLessThan(body.length);
    expect(gunzipSync(r.bytes).toString()).toBe(body);
  });
});

describe('gatewayProxy: proxying', () => {
  it('rewrites the path (query kept) and applies header rules both ways', async () => {
    const origin = await startOrigin((req, res) => {
      res.setHeader('x-internal-id', '7');
      res.setHeader('X-Internal-Trace', 'abc');
      res.setHeader('server', 'origin');
      res.setHeader('x-keep', 'k');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr] } },
      routes: [
        {
          match: { path_prefix: '/api/' },
          upstream: 'app',
          rewrite: { strip_prefix: '/api', regex: '^/v1/(.*)$', replacement: '/$1', add_prefix: '/v2/' },
          request_headers: {
            remove: ['x-secret'],
            remove_regex: ['^X-DEBUG-'],
            set: { 'x-route': 'api' },
            append: { 'x-multi': 'b' },
          },
          response_headers: {
            remove: ['server'],
            remove_regex: ['^x-internal-'],
            append: { 'x-keep': 'k2' },
          },
        },
      ],
    });
    const r = await request(gw.url('/api/v1/users/42?sort=asc&x=%20'), {
      headers: { 'x-secret': 's', 'x-debug-a': '1', 'X-Debug-B': '2', 'x-multi': 'a', 'x-route': 'client' },
    });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/v2/users/42?sort=asc&x=%20');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-debug-a']).toBeUndefined();
    expect(seen.headers['x-debug-b']).toBeUndefined();
    expect(seen.headers['x-route']).toBe('api');
    expect(seen.headers['x-multi']).toBe('a, b');
    expect(r.headers['x-internal-id']).toBeUndefined();
    expect(r.headers['x-internal-trace']).toBeUndefined();
    expect(r.headers.server).toBeUndefined();
    expect(r.raw.filter((v, i) => i % 2 === 1 && (v === 'k' || v === 'k2'))).toEqual(['k', 'k2']);
  });

  it("the cluster's Host override goes upstream", async () => {
    const origin = await startOrigin((req, res) => res.end(req.headers.host));
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr], host_header: 'internal.svc' } },
    });
    expect((await request(gw.url('/'))).body).toBe('internal.svc');
  });

  it('retries a refused connection on another backend', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('second'));
    const gw = await startGateway({
      upstreams: { app: { backends: [`127.0.0.1:${dead}`, origin.addr], retries: 1 } },
    });
    // Round robin starts at the dead backend for the first request.
    const r = await request(gw.url('/'));
    expect(r.status).toBe(200);
    expect(r.body).toBe('second');
    expect(gw.logs.some((l) => l.msg.startsWith('retrying request:'))).toBe(true);
  });

  it('with retries: 0 a refused connection is a 502', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('never'));
    const gw = await startGateway({
      upstreams: { app: { backends: [`127.0.0.1:${dead}`, origin.addr], retries: 0 } },
    });
    expect((await request(gw.url('/'))).status).toBe(502);
  });

  it('a cluster with no backend answers 503', async () => {
    const origin = await startOrigin((_req, res) => res.end('x'));
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr] }, empty: { dns: { name: 'localhost', port: 1 } } },
      routes: [{ match: { path: '/empty' }, upstream: 'empty' }, { upstream: 'app' }],
    });
    expect((await request(gw.url('/empty'))).status).toBe(503);
    expect((await request(gw.url('/'))).body).toBe('x');
  });
});

describe('gatewayProxy: allow / deny', () => {
  const ok = { respond: { body: 'in' } };

  it('lets an allowed loopback client in and turns away a denied one with 403', async () => {
    const gw = await startGateway({
      routes: [
        { match: { path: '/allowed' }, allow: ['127.0.0.0/8'], ...ok },
        { match: { path: '/denied' }, deny: ['10.0.0.0/8', '127.0.0.1'], ...ok },
        { match: { path: '/v6only' }, allow: ['::1/128'], ...ok },
        { match: { path: '/both' }, allow: ['127.0.0.0/8'], deny: ['127.0.0.1/32'], ...ok },
      ],
    });
    expect((await request(gw.url('/allowed'))).body).toBe('in');
    const denied = await request(gw.url('/denied'));
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('Forbidden\n');
    expect((await request(gw.url('/v6only'))).status).toBe(403);
    expect((await request(gw.url('/both'))).status).toBe(403);
  });

  it('matches an IPv4 client of a dual-stack listener (::ffff:127.0.0.1) as IPv4', async () => {
    let gw: Awaited<ReturnType<typeof startGateway>>;
    try {
      gw = await startGateway(
        { routes: [{ match: { path: '/denied' }, deny: ['127.0.0.0/8'], ...ok }, ok] },
        { listen: '[::]:0' },
      );
    } catch {
      return; // no IPv6 on this machine: nothing to test
    }
    expect((await request(gw.url('/denied'))).status).toBe(403);
    expect((await request(gw.url('/other'))).body).toBe('in');
  });
});

describe('gatewayProxy: guards, leases, logging', () => {
  it('runs allow/deny before the rate-limit guards, and waits for an asynchronous guard', async () => {
    const seen: string[] = [];
    const gw = await startGateway(
      {
        routes: [
          {
            match: { path: '/denied' },
            deny: ['127.0.0.0/8'],
            rate_limit: { requests: 1 },
            respond: { body: 'no' },
          },
          { rate_limit: { requests: 1 }, respond: { body: 'through' } },
        ],
      },
      {
        policies: {
          rateLimitGuards: (_route, name) => [
            async (session) => {
              seen.push(name);
              await new Promise((r) => setImmediate(r));
              if (session.getHeader('x-over') === undefined) return false;
              session.respondErrorWithBody(429, 'slow down\n');
              return true;
            },
          ],
          routeCache: () => undefined,
          close: async () => undefined,
        },
      },
    );
    expect((await request(gw.url('/denied'))).status).toBe(403);
    expect(seen).toEqual([]);
    expect((await request(gw.url('/'))).body).toBe('through');
    const over = await request(gw.url('/'), { headers: { 'x-over': '1' } });
    expect(over.status).toBe(429);
    expect(over.body).toBe('slow down\n');
    expect(seen).toEqual(['routes[1]', 'routes[1]']);
  });

  it('releases every backend lease (one per attempt) and then calls the logging hook', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const logged: Array<{ route: string | undefined; tried: number; status: number | undefined }> = [];
    const gw = await startGateway(
      {
        upstreams: { app: { backends: [`127.0.0.1:${dead}`, origin.addr] } },
        routes: [{ name: 'api', upstream: 'app' }],
      },
      {
        logging: (session, _error, ctx) => {
          logged.push({
            route: ctx.route?.name,
            tried: ctx.tried.length,
            status: session.responseWritten()?.status,
          });
        },
      },
    );
    expect((await request(gw.url('/'))).body).toBe('ok');
    expect((await request(gw.url('/nowhere/but/app'))).body).toBe('ok');
    await waitFor(() => logged.length === 2);
    const app = gw.clusters.get('app')!;
    // Round robin puts the dead backend first for both requests: two attempts each.
    expect(logged).toEqual([
      { route: 'api', tried: 2, status: 200 },
      { route: 'api', tried: 2, status: 200 },
    ]);
    expect(app.leased).toBe(4);
    expect(app.released).toBe(4);
  });

  it('compresses a proxied response on a route with a compression level', async () => {
    const text = 'the quick brown fox '.repeat(500);
    const origin = await startOrigin((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(text);
    });
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr] } },
      routes: [{ match: { path: '/zip' }, upstream: 'app', compression: { level: 9 } }, { upstream: 'app' }],
    });
    const zipped = await fetchBytes(gw.url('/zip'), { 'accept-encoding': 'gzip' });
    expect(zipped.enc).toBe('gzip');
    expect(gunzipSync(zipped.bytes).toString()).toBe(text);
    const plain = await fetchBytes(gw.url('/plain'), { 'accept-encoding': 'gzip' });
    expect(plain.enc).toBeUndefined();
    expect(plain.bytes.toString()).toBe(text);
  });
});

function fetchBytes(
  url: string,
  headers: Record<string, string>,
): Promise<{ enc: string | undefined; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ enc: res.headers['content-encoding'], bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
