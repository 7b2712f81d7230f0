/**
 * The conditions on how a request arrived (`match.scheme`, `match.port`), the `$host` redirect
 * substitution and the PURGE guard, on real gateways. HTTPS itself is exercised end to end by
 * the tls-load-balancer example test (a TLS listener and a plain one in one gateway).
 */
import { closeAll, freePort, request, startOrigin } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../runtime/test-harness.js';

afterEach(closeAll);

const say = (body: string) => ({ respond: { body } });

describe('match: scheme and port', () => {
  it('port: routes by the local port the request came in on, one or a list', async () => {
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    const routes = [
      { match: { port: a }, ...say('first') },
      { match: { port: [b, 1] }, ...say('second') },
      say('other'),
    ];
    const body = async (port: number) => {
      const gw = await startGateway({ routes }, { listen: `127.0.0.1:${port}` });
      // The Host header names another port: only the connection's own counts.
      return (await request(gw.url('/'), { headers: { host: `example.com:${a}` } })).body;
    };
    expect([await body(a), await body(b), await body(c)]).toEqual(['first', 'second', 'other']);
  });

  it('scheme: a plain listener is http, never https, whatever the client claims', async () => {
    const gw = await startGateway({
      routes: [
        { match: { scheme: 'https' }, ...say('tls') },
        { match: { scheme: 'http' }, ...say('plain') },
      ],
    });
    const res = await request(gw.url('/'), { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.body).toBe('plain');
  });
});

describe('redirect: $host', () => {
  it('is the host name without the port, lower-cased, next to $uri and $path', async () => {
    const gw = await startGateway({
      routes: [
        { match: { path_prefix: '/p' }, redirect: { to: 'https://$host/new$path', status: 308 } },
        { redirect: { to: 'https://$host$uri', status: 301 } },
      ],
    });
    const plain = await request(gw.url('/a/../b?q=1'), { headers: { host: 'WWW.Example.com:8080' } });
    expect([plain.status, plain.headers.location]).toEqual([301, 'https://www.example.com/b?q=1']);
    const v6 = await request(gw.url('/p/x?q=1'), { headers: { host: '[::1]:8080' } });
    expect([v6.status, v6.headers.location]).toEqual([308, 'https://[::1]/new/p/x']);
  });
});

describe('cache.purge_allow', () => {
  it('refuses PURGE from other clients with 403 and lets every other method through', async () => {
    let hits = 0;
    const origin = await startOrigin((req, res) => {
      hits++;
      res.end(`origin ${req.method}`);
    });
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr] } },
      routes: [{ upstream: 'app', cache: { purge: true, purge_allow: ['127.0.0.1/32'] } }],
    });
    const from = (localAddress: string, method: string) => request(gw.url('/x'), { method, localAddress });
    const refused = await from('127.0.0.3', 'PURGE');
    expect([refused.status, refused.body]).toEqual([403, 'Forbidden\n']);
    expect((await from('127.0.0.3', 'GET')).body).toBe('origin GET');
    // This gateway has no cache store behind the route: an allowed PURGE reaches the origin.
    expect((await from('127.0.0.1', 'PURGE')).body).toBe('origin PURGE');
    expect(hits).toBe(2);
  });

  it('is off when the route does not accept PURGE', async () => {
    const origin = await startOrigin((req, res) => res.end(`origin ${req.method}`));
    const gw = await startGateway({
      upstreams: { app: { backends: [origin.addr] } },
      routes: [{ upstream: 'app', cache: true }],
    });
    const res = await request(gw.url('/x'), { method: 'PURGE', localAddress: '127.0.0.3' });
    expect(res.body).toBe('origin PURGE');
  });
});
