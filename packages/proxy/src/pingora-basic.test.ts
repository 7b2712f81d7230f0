/**
 * Pingora's proxy integration tests (pingora-proxy/tests/test_basic.rs), ported: the same
 * requests to a proxy keyed on request headers like Pingora's test proxy, in front of an origin
 * with the same locations (test/pingora-origin.ts, test/pingora-proxy.ts). Each `it` names the
 * case it ports; the TLS-peer cases are in pingora-tls.test.ts.
 *
 * Already asserted elsewhere, not repeated here:
 *   test_h2_head                                 → h2.test 'HEAD and 204 answers over h2 carry no body'
 *   test_connect_proxying_disallowed_h1          → errors.test 'CONNECT is refused with 405 by default'
 *   test_error_after_headers_sent_rst_received   → parity-exchange.test 'resets the downstream HTTP/2
 *                                                  stream with CANCEL, as Pingora does'
 * Not ported: test_tls_psk, test_tls_psk_invalid (TLS-PSK peers are s2n-only in Pingora; the
 * peers here, on node:tls, have no PSK option).
 */
import http from 'node:http';
import http2 from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { closeAll, rawRequest, request, startRawOrigin } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2request } from '../test/pingora-clients.js';
import { type PingoraOrigin, startPingoraOrigin } from '../test/pingora-origin.js';
import { type PingoraProxies, startPingoraProxies } from '../test/pingora-proxy.js';

let origin: PingoraOrigin;
let proxy: PingoraProxies;

beforeAll(async () => {
  origin = await startPingoraOrigin();
  proxy = await startPingoraProxies(origin);
});
afterAll(closeAll);

const url = (port: number, path = '/') => `http://127.0.0.1:${port}${path}`;

/** A GET whose body is kept as bytes (no decoding). */
function getBytes(
  u: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(u, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** `ip:port` with a real (non-zero) port from `ip`. */
const addrFrom = (ip: string) => new RegExp(`^${ip.replaceAll('.', '\\.')}:[1-9]\\d*$`);

describe('Pingora test_basic.rs', () => {
  it('test_origin_alive', async () => {
    const r = await request(url(origin.port));
    expect([r.status, r.headers['content-length'], r.body]).toEqual([200, '13', 'Hello World!\n']);
  });

  it('test_simple_proxy: client, server and upstream addresses; upstream bound to 127.0.0.2', async () => {
    const r = await request(url(proxy.http));
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('13');
    expect(r.headers['x-server-addr']).toBe(`127.0.0.1:${proxy.http}`);
    expect(r.headers['x-client-addr']).toMatch(addrFrom('127.0.0.1'));
    expect(r.headers['x-upstream-server-addr']).toBe(`127.0.0.1:${origin.port}`);
    expect(r.headers['x-upstream-client-addr']).toMatch(addrFrom('127.0.0.2'));
    expect(r.body).toBe('Hello World!\n');
  });

  it.each([
    ['test_h2_to_h1', {} as Record<string, string>],
    ['test_h2_to_h2', { 'x-h2': 'true' }],
  ])('%s: h2 over TLS downstream, TLS upstream, Content-Length kept', async (_name, extra) => {
    const r = await h2request(url(proxy.tls).replace('http:', 'https:'), { sni: 'openrusty.org', ...extra });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('13');
    expect(r.headers['x-server-addr']).toBe(`127.0.0.1:${proxy.tls}`);
    expect(r.headers['x-client-addr']).toMatch(addrFrom('127.0.0.1'));
    expect(r.headers['x-upstream-server-addr']).toBe(`127.0.0.1:${origin.tlsPort}`);
    expect(r.headers['x-upstream-client-addr']).toMatch(addrFrom('127.0.0.2'));
    expect(r.headers['origin-http2']).toBe(extra['x-h2'] === 'true' ? 'h2' : undefined);
    expect(r.body).toBe('Hello World!\n');
  });

  it('test_h2c_to_h2c', async () => {
    const r = await h2request(url(proxy.h2c), { 'x-h2': 'true' });
    expect([r.status, r.body]).toEqual([200, 'Hello World!\n']);
    expect(r.headers['origin-http2']).toBe('h2c');
  });

  it('test_h1_on_h2c_port', async () => {
    const r = await request(url(proxy.h2c), { headers: { 'x-h2': 'true' } });
    expect([r.status, r.body]).toEqual([200, 'Hello World!\n']);
    expect(r.headers['origin-http2']).toBe('h2c'); // h1 downstream, h2c upstream
  });

  it('test_h2_to_h2_host_override', async () => {
    const r = await h2request(url(proxy.tls).replace('http:', 'https:'), {
      'x-h2': 'true',
      'host-override': 'test.com',
    });
    expect([r.status, r.headers['content-length'], r.body]).toEqual([200, '13', 'Hello World!\n']);
  });

  it.each([
    ['test_h2_to_h2_upload', { 'x-h2': 'true' }],
    ['test_h2_to_h1_upload', {}],
  ])('%s: a GET with a body is echoed', async (_name, extra) => {
    const tls = url(proxy.tls, '/echo').replace('http:', 'https:');
    const r = await h2request(tls, { sni: 'openrusty.org', ...extra }, 'test upload');
    expect([r.status, r.body]).toEqual([200, 'test upload']);
  });

  it('test_simple_proxy_uds: a proxy listening on a Unix socket', async () => {
    const r = await new Promise<http.IncomingMessage & { text: string }>((resolve, reject) => {
      const req = http.request({ socketPath: proxy.udsPath, path: '/' }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(Object.assign(res, { text })));
      });
      req.on('error', reject);
      req.end();
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-length']).toBe('13');
    expect(r.headers['x-server-addr']).toBe(proxy.udsPath);
    expect(r.headers['x-client-addr']).toBe('unset'); // an unnamed Unix-socket client
    expect(r.headers['x-upstream-server-addr']).toBe(`127.0.0.1:${origin.port}`);
    expect(r.headers['x-upstream-client-addr']).toMatch(addrFrom('127.0.0.2'));
    expect(r.text).toBe('Hello World!\n');
  });

  it('test_simple_proxy_uds_peer: a Unix-socket peer has no upstream client address', async () => {
    const r = await request(url(proxy.http), { headers: { 'x-uds-peer': '1' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-server-addr']).toBe(`127.0.0.1:${proxy.http}`);
    expect(r.headers['x-client-addr']).toMatch(addrFrom('127.0.0.1'));
    expect(r.headers['x-upstream-client-addr']).toBe('unset');
    expect(r.headers['x-upstream-server-addr']).toBe(origin.udsPath);
    expect(r.body).toBe('Hello World!\n');
  });

  it('test_dropped_conn: a reused connection the origin drops is retried, unless the body passed 64 KiB', async () => {
    const headers = { 'x-port': String(origin.badLbPort) };
    const agent = new http.Agent({ keepAlive: true });
    const load = async () => {
      for (let i = 0; i < 2; i++)
        expect((await request(url(proxy.http), { headers, agent })).status).toBe(200);
    };
    // Each call must find the pooled connection that `load` left, so each is a real retry (or not).
    const retries = () =>
      proxy.logs.filter((l) => l.msg.startsWith('retrying request: reused connection')).length;
    const badLb = async (method: string, body?: string) => {
      const before = retries();
      const r = await request(url(proxy.http, '/bad_lb'), { method, headers, agent, body });
      return [r.status, r.status === 200 ? r.body : '', retries() - before];
    };
    await load();
    expect(await badLb('GET')).toEqual([200, 'dog!\n', 1]);
    await load();
    expect(await badLb('POST')).toEqual([200, 'dog!\n', 1]);
    await load();
    expect(await badLb('POST', 'cat!')).toEqual([200, 'cat!\n', 1]);
    await load();
    // One byte past the 64 KiB retry buffer: the body cannot be sent again.
    expect(await badLb('POST', 'e'.repeat(64 * 1024 + 1))).toEqual([502, '', 0]);
    agent.destroy();
  });

  it.each([
    ['test_upstream_compression', {} as Record<string, string>],
    ['test_downstream_compression', { 'x-downstream-compression': '1' }],
  ])('%s: gzip when the client accepts it', async (_name, extra) => {
    const get = (path: string) => getBytes(url(proxy.http, path), { 'accept-encoding': 'gzip', ...extra });
    // Pingora's case fetches /no_compression (32 bytes) and gets it gzipped. pingora-ts sends
    // bodies under 256 bytes as they are, deliberately (the gzip framing eats the saving and the
    // body fits one packet anyway), so the compression is checked on 1 KiB and the 32 bytes
    // must come back untouched.
    const big = await get('/file_maker');
    expect(big.status).toBe(200);
    expect(big.headers['content-encoding']).toBe('gzip');
    expect(big.body.length).toBeLessThan(1024);
    expect(gunzipSync(big.body).toString()).toBe('A'.repeat(1024));
    const small = await get('/no_compression');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.toString()).toBe('B'.repeat(32));
  });

  it('test_connect_close: keep-alive by default, close when the client asks', async () => {
    const alive = await request(url(proxy.http), { agent: new http.Agent({ keepAlive: true }) });
    expect([alive.headers['content-length'], alive.headers.connection, alive.body]).toEqual([
      '13',
      'keep-alive',
      'Hello World!\n',
    ]);
    const close = await request(url(proxy.http), { headers: { connection: 'close' } });
    expect([close.headers['content-length'], close.headers.connection, close.body]).toEqual([
      '13',
      'close',
      'Hello World!\n',
    ]);
  });

  it('test_connect_proxying_disallowed_h2: CONNECT on h2 → 405, empty body', async () => {
    const r = await h2request(url(proxy.h2c), { ':method': 'CONNECT', ':authority': 'pingora.org:443' });
    expect(r.status).toBe(405);
    expect(r.body).toBe('');
  });

  it('test_connect_proxying_allowed_h1: CONNECT reaches the upstream when allowed', async () => {
    const up = await startRawOrigin((s) =>
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')),
    );
    const out = await rawRequest(
      proxy.connect,
      `CONNECT pingora.org:443 HTTP/1.1\r\nHost: pingora.org:443\r\nX-Port: ${up.port}\r\n\r\n`,
      { until: (s) => s.endsWith('ok') },
    );
    expect(out.split('\r\n')[0]).toMatch(/ 200 /);
    expect(out.endsWith('ok')).toBe(true);
  });

  it('test_error_before_headers_sent: an origin gone before the head → an error answer on the h2 stream', async () => {
    const r = await h2request(url(proxy.h2c, '/sleep/test_error_before_headers_sent.txt'), {
      'x-set-sleep': '0',
      'x-abort': 'true',
    });
    expect(r.status).toBe(502);
    expect(r.body).toBe('');
  });

  it('test_103: Early Hints then the answer', async () => {
    const r = await request(url(proxy.http, '/103'));
    expect([r.status, r.headers['content-length'], r.body]).toEqual([200, '6', '123456']);
  });

  it('test_103 (beyond its assertions): the 103 reaches an HTTP/1.1 client before the 200', async () => {
    // Pingora's H1 server session forwards 1xx heads unless told to ignore them (off by default).
    const raw = await rawRequest(proxy.http, 'GET /103 HTTP/1.1\r\nHost: a\r\n\r\n', {
      until: (t) => t.endsWith('123456'),
    });
    expect(raw).toMatch(
      /^HTTP\/1\.1 103 [^\r]*\r\n[\s\S]*?link: <\/style\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 /i,
    );
  });

  it('test_103 (beyond its assertions): an HTTP/1.0 client gets the 200 alone', async () => {
    const raw = await rawRequest(proxy.http, 'GET /103 HTTP/1.0\r\nHost: a\r\n\r\n', {
      until: (t) => t.endsWith('123456'),
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(raw).not.toContain(' 103 ');
  });

  it('test_103 (beyond its assertions): an HTTP/2 client gets the 103 as interim headers', async () => {
    const client = http2.connect(url(proxy.h2c));
    client.on('error', () => {});
    const interim: http2.IncomingHttpHeaders[] = [];
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = client.request({ ':path': '/103' });
      let status = 0;
      let body = '';
      stream.on('headers', (h) => interim.push(h));
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => (body += c.toString()));
      stream.on('error', reject);
      stream.on('close', () => resolve({ status, body }));
    });
    client.close();
    expect(r).toEqual({ status: 200, body: '123456' });
    expect(interim.map((h) => [h[':status'], h.link])).toEqual([[103, '</style.css>; rel=preload']]);
  });

  it('test_103_die: an origin gone after a 103 → 502', async () => {
    expect((await request(url(proxy.http, '/103-die'))).status).toBe(502);
  });
});
