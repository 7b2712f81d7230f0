/**
 * HTTP/2 with real clients and a real origin: curl (h2c with prior knowledge, and h2 over TLS via
 * ALPN), h2load, and nginx as an HTTP/2 origin over TLS. Missing tools skip these tests with a
 * message, unless PINGORA_TS_REQUIRE_PEERS=1 (CI, after installing the Debian peers): then a
 * missing tool fails.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { HttpPeer, HttpServer, Service, ShutdownController, TlsSettings } from '@pingora-ts/core';
import { requirePeer, startNginx, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllH2, FIXTURES, h2connect, h2fetch, startH2cProxy } from '../test/h2.js';
import { memoryLogger, request, startOrigin } from '../test/helpers.js';
import { HttpProxy, type ProxyHttp } from './index.js';

const exec = promisify(execFile);

const hasCurl = requirePeer('curl');
const hasH2load = requirePeer('h2load');
const hasNginx = requirePeer('nginx');

afterEach(closeAllH2);

async function tlsProxy(inner: ProxyHttp): Promise<number> {
  const logger = memoryLogger();
  const service = new Service('tls h2 proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  service.addTlsWithSettings(
    '127.0.0.1:0',
    undefined,
    TlsSettings.intermediate(`${FIXTURES}/localhost.pem`, `${FIXTURES}/localhost.key`).enableH2(),
  );
  return startService(service, new ShutdownController());
}

function echoOrigin() {
  return startOrigin((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(200, {
        'Content-Type': 'text/plain',
        'X-Seen-Te': String(req.headers['transfer-encoding']),
      });
      res.end(`${req.method} ${req.url} host=${req.headers.host} body=${body}`);
    });
  });
}

/** nginx serving HTTP/2 over TLS with the `origin.test` certificate; one response with a trailer. */
async function startNginxH2(): Promise<number> {
  const nginx = await startNginx(
    (port) => `  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${FIXTURES}/origin.test.pem;
    ssl_certificate_key ${FIXTURES}/origin.test.key;
    location / {
      add_header X-Origin nginx;
      add_trailer X-Nginx-Trailer done;
      return 200 "nginx $server_protocol $request_method $uri host=$host\\n";
    }
  }`,
    { workerConnections: 256 },
  );
  return nginx.port;
}

describe('HTTP/2 with real clients', () => {
  it.runIf(hasCurl)(
    'curl --http2-prior-knowledge (h2c) through the proxy to an HTTP/1.1 origin',
    async () => {
      const origin = await echoOrigin();
      const p = await startH2cProxy({ upstreamPeer: () => origin.peer() });
      const { stdout } = await exec('curl', [
        '-sS',
        '--http2-prior-knowledge',
        '-D',
        '-',
        '--data-binary',
        'posted',
        '-H',
        'Content-Type: text/plain',
        '-H',
        'Transfer-Encoding:',
        `http://127.0.0.1:${p.port}/curl?q=1`,
      ]);
      expect(stdout).toMatch(/^HTTP\/2 200/);
      expect(stdout).toContain('POST /curl?q=1 host=127.0.0.1');
      expect(stdout).toContain('body=posted');
      // HTTP/1.1 curl on the same port still works.
      const h1 = await exec('curl', ['-sS', '-D', '-', `http://127.0.0.1:${p.port}/h1`]);
      expect(h1.stdout).toMatch(/^HTTP\/1.1 200/);
    },
  );

  it.runIf(hasCurl)('curl --http2 over TLS negotiates h2 with the proxy (ALPN)', async () => {
    const origin = await echoOrigin();
    const port = await tlsProxy({ upstreamPeer: () => origin.peer() });
    const { stdout } = await exec('curl', [
      '-sS',
      '--http2',
      '--cacert',
      `${FIXTURES}/ca.pem`,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '-D',
      '-',
      `https://localhost:${port}/tls`,
    ]);
    expect(stdout).toMatch(/^HTTP\/2 200/);
    expect(stdout).toContain(`GET /tls host=localhost:${port}`);
  });

  it.runIf(hasH2load)('h2load: every request succeeds over multiplexed h2c streams', async () => {
    const origin = await echoOrigin();
    const p = await startH2cProxy({ upstreamPeer: () => origin.peer() });
    const { stdout } = await exec('h2load', [
      '-n',
      '400',
      '-c',
      '4',
      '-m',
      '20',
      `http://127.0.0.1:${p.port}/load`,
    ]);
    expect(stdout).toMatch(/requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored/);
    expect(stdout).toMatch(/status codes: 400 2xx/);
  });

  it.runIf(hasNginx)('nginx as an HTTP/2 origin over TLS: h2 → h2 and h1 → h2, with trailers', async () => {
    const nginxPort = await startNginxH2();
    const ca = readFileSync(`${FIXTURES}/ca.pem`);
    const p = await startH2cProxy({
      upstreamPeer: () => {
        const peer = new HttpPeer(`127.0.0.1:${nginxPort}`, true, 'origin.test');
        peer.options.alpn = 'h2';
        peer.options.maxH2Streams = 100;
        peer.options.ca = ca;
        return peer;
      },
    });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const r = await h2fetch(s, { ':path': '/via-h2', ':authority': 'nginx.test', te: 'trailers' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('nginx HTTP/2.0 GET /via-h2 host=nginx.test\n');
    expect(r.headers['x-origin']).toBe('nginx');
    expect(r.trailers?.['x-nginx-trailer']).toBe('done');
    // (An HTTP/1.1 client gets trailers only with chunked framing; nginx sent a Content-Length.)
    const h1 = await request(`http://127.0.0.1:${p.port}/via-h1`, { headers: { host: 'h1.test' } });
    expect(h1.body).toBe('nginx HTTP/2.0 GET /via-h1 host=h1.test\n');
    // Many concurrent streams share the upstream h2 connection.
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => h2fetch(s, { ':path': `/m${i}` })));
    expect(many.every((m) => m.status === 200)).toBe(true);
    if (hasCurl) {
      const { stdout } = await exec('curl', [
        '-sS',
        '--http2-prior-knowledge',
        `http://127.0.0.1:${p.port}/curl`,
      ]);
      expect(stdout).toBe('nginx HTTP/2.0 GET /curl host=127.0.0.1\n');
    }
  });
});
