/**
 * The example files of `examples/configs`, each validated as committed and then run for real
 * with only its addresses changed (listeners and Prometheus on free ports, backends on test
 * origins, certificates generated where the file expects them), exercised with real clients.
 */
import { readdirSync } from 'node:fs';
import { get, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { closeAll, freePort, request, requirePeer, waitFor } from '@pingora-ts/test-utils';
import { Agent, request as undiciRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { curl, h2Get, handshake, httpsGet } from './examples-clients.js';
import {
  type Echo,
  EXAMPLES_DIR,
  exampleText,
  generateCert,
  type NamedOrigin,
  opensslAvailable,
  runExample,
  setIn,
  startEchoOrigin,
  validOrThrow,
} from './examples-support.js';

afterEach(closeAll);

const hasCurl = requirePeer('curl');
const hasOpenssl = opensslAvailable();
const EXPECTED = ['api-gateway.yaml', 'caching-proxy.yaml', 'reverse-proxy.yaml', 'tls-load-balancer.yaml'];
/** An IPv4 address of this machine outside loopback, to send from; undefined when it has none. */
function externalIPv4(): string | undefined {
  const all = Object.values(networkInterfaces()).flat();
  return all.find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

const SCHEMA_LINE = '# yaml-language-server: $schema=../../packages/gateway/schema/pingora-ts.schema.json';

describe('every example file', () => {
  it('is there, one per use case', () => {
    const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(EXPECTED);
  });

  it.each(EXPECTED)('%s names the JSON Schema and validates as committed', (file) => {
    const text = exampleText(file);
    expect(text.split('\n')[0]).toBe(SCHEMA_LINE);
    expect(() => validOrThrow(text, join(EXAMPLES_DIR, file))).not.toThrow();
  });
});

describe('reverse-proxy.yaml', () => {
  it('is at most ten lines and forwards every request to its one upstream', async () => {
    const text = exampleText('reverse-proxy.yaml');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
    const app = await startEchoOrigin('app');
    const port = await freePort();
    await runExample('reverse-proxy.yaml', (doc) => {
      setIn(doc, ['listeners', 0], `127.0.0.1:${port}`);
      setIn(doc, ['upstreams', 'app', 'backends', 0], app.addr);
    });
    const base = `http://127.0.0.1:${port}`;

    const res = await request(`${base}/any/path?q=1`);
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body) as Echo;
    expect([echo.origin, echo.method, echo.url]).toEqual(['app', 'GET', '/any/path?q=1']);
    expect(echo.headers.host).toBe(`127.0.0.1:${port}`);

    const post = await request(`${base}/submit`, { method: 'POST', body: 'name=pingora' });
    expect(JSON.parse(post.body)).toMatchObject({ method: 'POST', url: '/submit', body: 'name=pingora' });
    expect(app.hits).toBe(2);
  });

  it.runIf(hasCurl)('answers curl', async () => {
    const app = await startEchoOrigin('app');
    const port = await freePort();
    await runExample('reverse-proxy.yaml', (doc) => {
      setIn(doc, ['listeners', 0], `127.0.0.1:${port}`);
      setIn(doc, ['upstreams', 'app', 'backends', 0], app.addr);
    });
    const out = await curl([`http://127.0.0.1:${port}/from-curl`]);
    expect(JSON.parse(out)).toMatchObject({ origin: 'app', url: '/from-curl' });
  });
});

describe.runIf(hasOpenssl)('tls-load-balancer.yaml', () => {
  async function start() {
    const origins = await Promise.all(['a', 'b', 'c'].map((n) => startEchoOrigin(n)));
    const [port, plainPort] = [await freePort(), await freePort()];
    const ca: string[] = [];
    const run = await runExample(
      'tls-load-balancer.yaml',
      (doc) => {
        setIn(doc, ['listeners', 0, 'address'], `127.0.0.1:${port}`);
        setIn(doc, ['listeners', 1], `127.0.0.1:${plainPort}`);
        setIn(
          doc,
          ['upstreams', 'web', 'backends'],
          origins.map((o) => o.addr),
        );
      },
      {
        prepare(dir) {
          const certs = join(dir, 'certs');
          ca.push(generateCert(certs, 'example.com', ['example.com', 'www.example.com']));
          ca.push(generateCert(certs, 'api.example.com'));
        },
      },
    );
    return { origins, port, plainPort, ca, run };
  }

  it('presents the certificate of each server name and offers h2 then http/1.1', async () => {
    const { port, ca } = await start();
    expect(await handshake(port, 'api.example.com', ca)).toEqual({ cn: 'api.example.com', alpn: 'h2' });
    expect(await handshake(port, 'example.com', ca)).toEqual({ cn: 'example.com', alpn: 'h2' });
    // A name the SNI map does not list gets the default certificate.
    expect((await handshake(port, 'other.example.org', ca)).cn).toBe('example.com');
    expect(await handshake(port, 'example.com', ca, ['http/1.1'])).toEqual({
      cn: 'example.com',
      alpn: 'http/1.1',
    });
  });

  it('balances HTTP/1.1 (undici) and HTTP/2 requests over the three backends, with its headers', async () => {
    const { port, ca } = await start();
    const agent = new Agent({ connect: { ca, servername: 'example.com' } });
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const res = await undiciRequest(`https://127.0.0.1:${port}/page/${i}`, { dispatcher: agent });
        expect(res.statusCode).toBe(200);
        expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
        const echo = (await res.body.json()) as Echo;
        expect(echo.headers['x-forwarded-proto']).toBe('https');
        seen.add(echo.origin);
      }
      expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    } finally {
      await agent.close();
    }
    const h2 = await h2Get(port, 'example.com', ca, '/over-h2');
    expect(h2.status).toBe(200);
    expect(h2.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(JSON.parse(h2.body)).toMatchObject({ url: '/over-h2' });
  });

  it('redirects www to the canonical name', async () => {
    const { port, ca, origins } = await start();
    const res = await httpsGet(port, 'www.example.com', ca, '/docs?page=2');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://example.com/docs?page=2');
    expect(origins.reduce((n, o) => n + o.hits, 0)).toBe(0);
  });

  it('sends plain HTTP to the same URL over HTTPS, and serves the TLS listener', async () => {
    const { port, plainPort, ca, origins } = await start();
    // The Host names the plain port: the redirect drops it (the HTTPS port is the default 443).
    const plain = await request(`http://127.0.0.1:${plainPort}/docs/a%20b?page=2`, {
      headers: { host: `Example.com:${plainPort}` },
    });
    expect([plain.status, plain.headers.location]).toEqual([301, 'https://example.com/docs/a%20b?page=2']);
    const post = await request(`http://127.0.0.1:${plainPort}/form`, {
      method: 'POST',
      body: 'x=1',
      headers: { host: 'api.example.com' },
    });
    expect([post.status, post.headers.location]).toEqual([301, 'https://api.example.com/form']);
    expect(origins.reduce((n, o) => n + o.hits, 0)).toBe(0);

    const served = await httpsGet(port, 'example.com', ca, '/docs?page=2');
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body)).toMatchObject({ url: '/docs?page=2' });
    const h2 = await h2Get(port, 'example.com', ca, '/over-h2');
    expect([h2.status, h2.headers.location]).toEqual([200, undefined]);
  });

  it('stops sending to a backend failing its health check, and retries past a dead one', async () => {
    const { port, ca, origins } = await start();
    const [a, b, c] = origins as [NamedOrigin, NamedOrigin, NamedOrigin];
    const round = async () => {
      const names: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await httpsGet(port, 'example.com', ca, `/r${i}`);
        expect(res.status).toBe(200);
        names.push((JSON.parse(res.body) as Echo).origin);
      }
      return names;
    };
    // b still serves but reports itself unhealthy: the health check takes it out.
    b.health = 503;
    await waitFor(async () => !(await round()).includes('b'), {
      timeout: 30_000,
      interval: 100,
      message: 'b taken out of rotation',
    });
    // c goes away without a word: every request still succeeds, retried on a.
    await c.stop();
    expect(await round()).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
    // b recovers and comes back.
    b.health = 200;
    await waitFor(async () => (await round()).includes('b'), {
      timeout: 30_000,
      interval: 100,
      message: 'b back in rotation',
    });
    expect(a.hits).toBeGreaterThan(0);
  });

  it.runIf(hasCurl)('answers curl over HTTP/2 with the SNI certificate', async () => {
    const { port, run } = await start();
    const out = await curl([
      '--cacert',
      join(run.dir, 'certs', 'api.example.com.pem'),
      '--resolve',
      `api.example.com:${port}:127.0.0.1`,
      '-w',
      '\n%{http_version}',
      `https://api.example.com:${port}/via-curl`,
    ]);
    const [body, version] = out.split('\n');
    expect(version).toBe('2');
    expect(JSON.parse(body!)).toMatchObject({ url: '/via-curl', headers: { 'x-forwarded-proto': 'https' } });
  });
});

describe('caching-proxy.yaml', () => {
  const PAGE = `<!doctype html><title>cached</title>${'<p>pingora-ts caches this page.</p>'.repeat(100)}`;

  async function start(text?: string) {
    const origin = await startEchoOrigin('origin', (req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      // Varying on a header outside the file's allow-list makes the response unstorable.
      if (req.url === '/per-agent') res.setHeader('vary', 'user-agent');
      else if (req.url !== '/no-vary') res.setHeader('vary', 'accept-encoding');
      res.end(PAGE);
      return true;
    });
    const port = await freePort();
    const run = await runExample(
      'caching-proxy.yaml',
      (doc) => {
        setIn(doc, ['listeners', 0], `127.0.0.1:${port}`);
        setIn(doc, ['upstreams', 'origin', 'backends', 0], origin.addr);
      },
      { text },
    );
    return { origin, run, url: (path: string) => `http://127.0.0.1:${port}${path}` };
  }

  it('serves a miss, then hits, until a PURGE from an allowed address', async () => {
    const { origin, url } = await start();
    const status = async (path: string) => (await request(url(path))).headers['x-cache-status'];
    expect(await status('/page')).toBe('miss');
    const hit = await request(url('/page'));
    expect([hit.status, hit.headers['x-cache-status'], hit.body]).toEqual([200, 'hit', PAGE]);
    expect(origin.hits).toBe(1);

    // 127.0.0.2 is this machine too, but not in `purge_allow`.
    const refused = await request(url('/page'), { method: 'PURGE', localAddress: '127.0.0.2' });
    expect(refused.status).toBe(403);
    expect(await status('/page')).toBe('hit');

    const purged = await request(url('/page'), { method: 'PURGE' });
    expect(purged.status).toBe(200);
    expect(await status('/page')).toBe('miss');
    expect(origin.hits).toBe(2);
  });

  it('without purge_allow, takes PURGE from this machine only', async () => {
    const text = exampleText('caching-proxy.yaml');
    const open = text.replace(/^ *purge_allow: .*\n/m, '');
    expect(open).not.toBe(text);
    const { origin, url } = await start(open);
    const status = async (path: string) => (await request(url(path))).headers['x-cache-status'];
    expect([await status('/page'), await status('/page')]).toEqual(['miss', 'hit']);
    // Any loopback address is this machine: allowed by the default.
    expect((await request(url('/page'), { method: 'PURGE', localAddress: '127.0.0.2' })).status).toBe(200);
    expect(await status('/page')).toBe('miss');
    expect(origin.hits).toBe(2);
    // Other methods are not the guard's business: a GET from anywhere is served as before.
    expect(await status('/page')).toBe('hit');
  });

  it.runIf(externalIPv4() !== undefined)(
    'without purge_allow, refuses PURGE from a non-loopback address with 403',
    async () => {
      const text = exampleText('caching-proxy.yaml').replace(/^ *purge_allow: .*\n/m, '');
      const { url } = await start(text);
      expect((await request(url('/page'))).headers['x-cache-status']).toBe('miss');
      const from = externalIPv4()!;
      const refused = await request(url('/page'), { method: 'PURGE', localAddress: from });
      expect(refused.status).toBe(403);
      expect((await request(url('/page'))).headers['x-cache-status']).toBe('hit');
    },
  );

  it('compresses for clients that accept gzip, from the one stored copy', async () => {
    const { origin, url } = await start();
    const fetchPage = (encoding?: string) =>
      new Promise<{ encoding: unknown; cache: unknown; body: Buffer }>((resolve, reject) => {
        const headers = encoding === undefined ? {} : { 'accept-encoding': encoding };
        get(url('/no-vary'), { headers }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c) => chunks.push(c));
          r.on('end', () =>
            resolve({
              encoding: r.headers['content-encoding'],
              cache: r.headers['x-cache-status'],
              body: Buffer.concat(chunks),
            }),
          );
        }).on('error', reject);
      });
    const zipped = await fetchPage('gzip');
    expect([zipped.encoding, zipped.cache]).toEqual(['gzip', 'miss']);
    expect(gunzipSync(zipped.body).toString()).toBe(PAGE);
    expect(zipped.body.length).toBeLessThan(PAGE.length / 4);
    // The cache holds the origin's bytes: a client without gzip gets them as they were.
    const plain = await fetchPage();
    expect([plain.encoding, plain.cache, plain.body.toString()]).toEqual([undefined, 'hit', PAGE]);
    const again = await fetchPage('gzip');
    expect([again.encoding, again.cache]).toEqual(['gzip', 'hit']);
    expect(gunzipSync(again.body).toString()).toBe(PAGE);
    expect(origin.hits).toBe(1);
  });

  it('does not store a response varying on a header outside its allow-list', async () => {
    const { origin, url } = await start();
    const first = await request(url('/per-agent'));
    const second = await request(url('/per-agent'));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers['x-cache-status']).not.toBe('hit');
    expect(origin.hits).toBe(2);
  });

  it('has a commented disk variant that runs once uncommented, caching into the directory', async () => {
    const text = exampleText('caching-proxy.yaml');
    const disk = text.replace('  # disk: {', '  disk: {').replace('storage: memory', 'storage: disk');
    expect(disk).not.toBe(text);
    const config = validOrThrow(disk, 'caching-proxy.yaml');
    expect(config.cache?.disk?.path).toBe('./cache');
    const { origin, run, url } = await start(disk);
    const status = async (path: string) => (await request(url(path))).headers['x-cache-status'];
    expect([await status('/on-disk'), await status('/on-disk')]).toEqual(['miss', 'hit']);
    expect(origin.hits).toBe(1);
    // The relative path starts from the file's directory.
    expect(readdirSync(join(run.dir, 'cache')).length).toBeGreaterThan(0);
  });
});

describe('api-gateway.yaml', () => {
  async function start() {
    const internal = (_req: unknown, res: ServerResponse) => {
      res.setHeader('x-internal-trace', 'secret');
      res.setHeader('x-powered-by', 'origin');
      return undefined;
    };
    const users = await Promise.all(['users-1', 'users-2'].map((n) => startEchoOrigin(n, internal)));
    const orders = await startEchoOrigin('orders', internal);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const run = await runExample('api-gateway.yaml', (doc) => {
      setIn(doc, ['listeners', 0, 'address'], `127.0.0.1:${port}`);
      setIn(
        doc,
        ['upstreams', 'users', 'backends'],
        users.map((o) => o.addr),
      );
      setIn(doc, ['upstreams', 'orders', 'backends', 0], orders.addr);
      setIn(doc, ['observability', 'prometheus', 'address'], `127.0.0.1:${metricsPort}`);
      // A client address of this machine joins the blocked network, so the deny rule can be seen.
      const routes = (doc.get('routes') as { toJSON(): { name?: string }[] }).toJSON();
      const deny = ['routes', routes.findIndex((r) => r.name === 'users-read'), 'deny'];
      setIn(doc, deny, [...(doc.getIn(deny) as { toJSON(): string[] }).toJSON(), '127.0.0.9']);
    });
    const url = (path: string) => `http://127.0.0.1:${port}${path}`;
    return { users, orders, url, metrics: `http://127.0.0.1:${metricsPort}/metrics`, run };
  }
  const key = (k: string) => ({ headers: { 'x-api-key': k } });

  it('answers its own health, 404, 401 and 431 without calling a service', async () => {
    const { users, orders, url } = await start();
    const health = await request(url('/healthz'));
    expect([health.status, health.body]).toEqual([200, 'ok\n']);
    const missing = await request(url('/nothing/here'));
    expect([missing.status, missing.headers['content-type'], missing.body]).toEqual([
      404,
      'application/json',
      '{"error":"not found"}',
    ]);
    expect((await request(url('/api/v1/users/7'))).status).toBe(401);
    // An empty key would escape the per-key limit (an empty key is not counted): refused too.
    expect((await request(url('/api/v1/users/7'), key(''))).status).toBe(401);
    // max_header_size: 32KiB lets a 20 KiB header through, where the default 16KiB would not.
    expect((await request(url('/healthz'), { headers: { 'x-big': 'a'.repeat(20_000) } })).status).toBe(200);
    expect((await request(url('/healthz'), { headers: { 'x-big': 'a'.repeat(40_000) } })).status).toBe(431);
    expect(users[0]!.hits + users[1]!.hits + orders.hits).toBe(0);
  });

  it('routes by path and method, rewriting paths and editing headers', async () => {
    const { url } = await start();
    const read = await request(url('/api/v1/users/7'), { headers: { 'x-api-key': 'k1', cookie: 'sid=1' } });
    expect(read.status).toBe(200);
    const echo = JSON.parse(read.body) as Echo;
    expect(echo.origin).toMatch(/^users-/);
    expect([echo.method, echo.url, echo.headers['x-gateway'], echo.headers.cookie]).toEqual([
      'GET',
      '/users/7',
      'pingora-ts',
      undefined,
    ]);
    expect(read.headers['x-internal-trace']).toBeUndefined();
    expect(read.headers['x-powered-by']).toBeUndefined();
    expect(read.headers['cache-control']).toBe('no-store');

    const write = await request(url('/api/v1/users'), { method: 'POST', body: '{"n":1}', ...key('k1') });
    expect(JSON.parse(write.body)).toMatchObject({ method: 'POST', url: '/users', body: '{"n":1}' });

    const order = JSON.parse((await request(url('/api/v1/orders/42'), key('k1'))).body) as Echo;
    expect([order.origin, order.url, order.headers['x-gateway']]).toEqual([
      'orders',
      '/v2/orders/42',
      'pingora-ts',
    ]);
    expect(String(order.headers.via)).toContain('pingora-ts');
  });

  it('limits each API key and each client address of the login, with Retry-After', async () => {
    const { users, url } = await start();
    const codes: number[] = [];
    for (let i = 0; i < 60; i++) codes.push((await request(url('/api/v1/users/1'), key('key-a'))).status);
    expect(codes.every((c) => c === 200)).toBe(true);
    const limited = await request(url('/api/v1/users/1'), key('key-a'));
    expect(limited.status).toBe(429);
    const wait = Number(limited.headers['retry-after']);
    expect(wait >= 1 && wait <= 60).toBe(true);
    expect((await request(url('/api/v1/users/1'), key('key-b'))).status).toBe(200);

    const login = (from: string) =>
      request(url('/api/v1/login'), { method: 'POST', body: 'user=a', localAddress: from });
    for (let i = 0; i < 5; i++) expect((await login('127.0.0.6')).status).toBe(200);
    const before = users[0]!.hits + users[1]!.hits;
    const refused = await login('127.0.0.6');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(users[0]!.hits + users[1]!.hits).toBe(before);
    expect((await login('127.0.0.7')).status).toBe(200);
  });

  it('refuses denied networks and keeps the status page to allowed ones', async () => {
    const { url } = await start();
    const from = (addr: string, path: string) => request(url(path), { localAddress: addr, ...key('k') });
    expect((await from('127.0.0.9', '/api/v1/users/1')).status).toBe(403);
    expect((await from('127.0.0.1', '/api/v1/users/1')).status).toBe(200);
    expect((await from('127.0.0.1', '/status')).status).toBe(200);
    expect((await from('127.0.0.2', '/status')).status).toBe(403);
  });

  it('logs each request as JSON with its route and counts it in Prometheus', async () => {
    const { url, metrics, run } = await start();
    // prom-client's registry is per process: the earlier tests' gateways counted into it too.
    const total = async (cls: string) =>
      (await request(metrics)).body
        .split('\n')
        .filter((l) => l.startsWith('http_server_requests_total{') && l.includes(`"${cls}"`))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const before = [await total('2xx'), await total('4xx')];
    await request(url('/healthz'));
    await request(url('/api/v1/orders/1'), key('k'));
    await request(url('/missing'));
    const access = () =>
      run.logs.filter((l) => l.msg === 'access').map((l) => l.obj as Record<string, unknown>);
    await waitFor(() => access().length === 3, { message: 'three access records' });
    expect(access().map((r) => [r.route, r.status])).toEqual([
      ['health', 200],
      ['orders', 200],
      ['not-found', 404],
    ]);
    await waitFor(async () => (await total('4xx')) === before[1]! + 1, { message: 'the 404 counted' });
    expect(await total('2xx')).toBe(before[0]! + 2);
    const scrape = await request(metrics);
    // Both health-checked users backends are reported in rotation.
    const healthy = scrape.body
      .split('\n')
      .filter((l) => l.startsWith('pingora_upstream_backend_healthy{upstream="users"'));
    expect(healthy.map((l) => l.split(' ').pop())).toEqual(['1', '1']);
  });
});
