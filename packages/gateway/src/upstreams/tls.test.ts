import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { answerWhoCalled, closeAll, onClose, request } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, startClusterProxy } from './test-support.js';

afterEach(closeAll);

/** The repository's TEST-ONLY certificates (see their README). */
const FIXTURES = fileURLToPath(new URL('../../../tls-openssl/test/fixtures/', import.meta.url));
const pem = (name: string) => readFileSync(join(FIXTURES, name));

/** An HTTPS origin with the `origin.test` certificate (names origin.test and 127.0.0.1). */
async function httpsOrigin(
  handler: Parameters<typeof https.createServer>[1],
  opts: https.ServerOptions = {},
): Promise<string> {
  const server = https.createServer(
    { cert: pem('origin.test.pem'), key: pem('origin.test.key'), ...opts },
    handler,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onClose(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const servername = (req: { socket: unknown }) => String((req.socket as TLSSocket).servername);

describe('TLS to the upstream', () => {
  it('verifies the origin against the configured CA; SNI defaults to the backend host', async () => {
    const addr = await httpsOrigin((req, res) => res.end(`sni=${servername(req)}`));
    const url = await startClusterProxy(buildApp({ backends: [addr], tls: { ca: 'ca.pem' } }, FIXTURES));
    const r = await request(`${url}/`);
    expect(r.status).toBe(200);
    // An IP backend: no SNI is sent (RFC 6066), and the certificate is checked for the IP.
    expect(r.body).toBe('sni=false');
  });

  it('sends the configured SNI and checks the certificate against it', async () => {
    const addr = await httpsOrigin((req, res) => res.end(`sni=${servername(req)}`));
    const good = await startClusterProxy(
      buildApp({ backends: [addr], tls: { ca: 'ca.pem', sni: 'origin.test' } }, FIXTURES),
    );
    expect((await request(`${good}/`)).body).toBe('sni=origin.test');
    const wrong = await startClusterProxy(
      buildApp({ backends: [addr], tls: { ca: 'ca.pem', sni: 'wrong.test' }, retries: 0 }, FIXTURES),
    );
    expect((await request(`${wrong}/`)).status).toBe(502);
  });

  it('without the CA the origin is refused, unless verify is false', async () => {
    const addr = await httpsOrigin((_req, res) => res.end('secret'));
    const strict = await startClusterProxy(buildApp({ backends: [addr], tls: true, retries: 0 }));
    expect((await request(`${strict}/`)).status).toBe(502);
    const lax = await startClusterProxy(buildApp({ backends: [addr], tls: { verify: false } }));
    expect((await request(`${lax}/`)).body).toBe('secret');
  });

  it('presents the client certificate to an origin that requires one', async () => {
    const addr = await httpsOrigin(answerWhoCalled, {
      requestCert: true,
      rejectUnauthorized: true,
      ca: pem('ca.pem'),
    });
    const url = await startClusterProxy(
      buildApp(
        { backends: [addr], tls: { ca: 'ca.pem', client_cert: 'client.pem', client_key: 'client.key' } },
        FIXTURES,
      ),
    );
    const r = await request(`${url}/`);
    expect(JSON.parse(r.body).clientCN).toBe('client-1');
  });

  it('http2 over TLS negotiates h2 by ALPN', async () => {
    const server = http2.createSecureServer({
      cert: pem('origin.test.pem'),
      key: pem('origin.test.key'),
      allowHTTP1: true,
    });
    server.on('request', (req, res) => res.end(`http/${req.httpVersion}`));
    const addr = await listen(server);
    const url = await startClusterProxy(
      buildApp({ backends: [addr], tls: { ca: 'ca.pem' }, http2: true }, FIXTURES),
    );
    expect((await request(`${url}/`)).body).toBe('http/2.0');
  });

  it('http2 without TLS speaks h2c with prior knowledge', async () => {
    const server = http2.createServer();
    server.on('request', (req, res) => res.end(`http/${req.httpVersion}`));
    const addr = await listen(server);
    const url = await startClusterProxy(buildApp({ backends: [addr], http2: true }));
    expect((await request(`${url}/`)).body).toBe('http/2.0');
  });

  it('an unreadable CA or client certificate fails the build, naming the key and the file', () => {
    expect(() => buildApp({ backends: ['127.0.0.1:1'], tls: { ca: './missing-ca.pem' } }, FIXTURES)).toThrow(
      'upstreams.app.tls.ca: cannot read ./missing-ca.pem: no such file',
    );
    expect(() =>
      buildApp(
        { backends: ['127.0.0.1:1'], tls: { client_cert: 'nope.pem', client_key: 'client.key' } },
        FIXTURES,
      ),
    ).toThrow('upstreams.app.tls.client_cert: cannot read nope.pem: no such file');
    expect(() => buildApp({ backends: ['127.0.0.1:1'], tls: { ca: 'README.md' } }, FIXTURES)).toThrow(
      /^upstreams\.app\.tls\.ca: README\.md is not usable PEM/,
    );
  });
});

async function listen(server: http2.Http2Server | http2.Http2SecureServer): Promise<string> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
