import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { HttpPeer, type ListenAddress, noopLogger, ShutdownController } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { closeAll, onClose, startOrigin, startService, waitForEvent } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import { addListeners, listenerGroups } from './index.js';

afterEach(closeAll);

/** The repository's TEST-ONLY certificates (see their README). */
const FIXTURES = fileURLToPath(new URL('../../../tls-openssl/test/fixtures/', import.meta.url));
const pem = (name: string) => readFileSync(join(FIXTURES, name));

/** A proxy with the file's listeners in front of an origin answering `hello`; resolves with the bound addresses. */
async function startListeners(listeners: GatewayConfigInput['listeners']): Promise<ListenAddress[]> {
  const origin = await startOrigin((req, res) => res.end(`hello over ${req.headers['x-proto'] ?? 'h1'}`));
  const config = gatewayConfig.parse({ listeners, upstreams: { app: { backends: [origin.addr] } } });
  const bound: ListenAddress[] = [];
  // As the gateway does: one service per set of listener settings; addresses back in file order.
  for (const group of listenerGroups(config)) {
    const service = httpProxyService(
      {},
      {
        upstreamPeer: () => new HttpPeer(origin.addr, false, ''),
        upstreamRequestFilter(session, req) {
          if (session.downstream.httpVersion === 2) req.insertHeader('x-proto', 'h2');
        },
      },
      { logger: noopLogger, serverOptions: group.serverOptions },
    );
    addListeners(service, config, { baseDir: FIXTURES, logger: noopLogger }, group.listeners);
    await startService(service, new ShutdownController());
    service.addresses().forEach((a, k) => {
      bound[group.listeners[k]!] = a;
    });
  }
  return bound;
}

const portOf = (a: ListenAddress | undefined) => (a?.kind === 'tcp' ? a.port : -1);

/** Handshakes with `servername` (no verification) and returns the served certificate's CN. */
function servedCn(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.destroy();
    });
    s.on('error', reject);
  });
}

function httpsGet(port: number, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'localhost',
        ca: pem('ca.pem'),
        agent: false,
        ...opts,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
  });
}

describe('listeners', () => {
  it('TLS: the SNI map picks the certificate, with wildcards one label deep', async () => {
    const [a] = await startListeners([
      {
        address: '127.0.0.1:0',
        tls: {
          cert: 'localhost.pem',
          key: 'localhost.key',
          sni: {
            'a.test': { cert: 'a.test.pem', key: 'a.test.key' },
            '*.wild.test': { cert: 'b.test.pem', key: 'b.test.key' },
          },
        },
      },
    ]);
    const port = portOf(a);
    expect(await servedCn(port, 'a.test')).toBe('a.test');
    expect(await servedCn(port, 'A.TEST')).toBe('a.test');
    expect(await servedCn(port, 'x.wild.test')).toBe('b.test');
    expect(await servedCn(port, 'y.x.wild.test')).toBe('localhost');
    expect(await servedCn(port, 'wild.test')).toBe('localhost');
    expect(await servedCn(port, 'other.test')).toBe('localhost');
    expect(await httpsGet(port)).toEqual({ status: 200, body: 'hello over h1' });
  });

  it('TLS: ALPN h2h1 (the default) serves HTTP/2 to a client that offers it', async () => {
    const [a] = await startListeners([
      { address: '127.0.0.1:0', tls: { cert: 'localhost.pem', key: 'localhost.key' } },
    ]);
    const session = http2.connect(`https://localhost:${portOf(a)}`, { ca: pem('ca.pem'), host: '127.0.0.1' });
    onClose(() => session.close());
    expect(await h2Get(session)).toBe('hello over h2');
  });

  it('TLS: handshake_timeout closes a connection that never starts its handshake', async () => {
    const [a] = await startListeners([
      {
        address: '127.0.0.1:0',
        tls: { cert: 'localhost.pem', key: 'localhost.key', handshake_timeout: '200ms' },
      },
    ]);
    const socket = net.connect(portOf(a), '127.0.0.1');
    socket.on('error', () => {});
    onClose(() => socket.destroy());
    // The default (60 s) would outlast this cap.
    await waitForEvent(socket, 'close', { timeout: 15_000, message: 'the silent connection to be closed' });
  });

  it('mTLS require: a client without a certificate is refused, one with a certificate served', async () => {
    const [a] = await startListeners([
      {
        address: '127.0.0.1:0',
        tls: { cert: 'localhost.pem', key: 'localhost.key', client_ca: 'ca.pem', client_auth: 'require' },
      },
    ]);
    const port = portOf(a);
    await expect(httpsGet(port)).rejects.toThrow();
    await expect(
      httpsGet(port, { cert: pem('rogue-client.pem'), key: pem('rogue-client.key') }),
    ).rejects.toThrow();
    expect(await httpsGet(port, { cert: pem('client.pem'), key: pem('client.key') })).toEqual({
      status: 200,
      body: 'hello over h1',
    });
  });

  it('h2c: a plain-text listener answers an HTTP/2 prior-knowledge client', async () => {
    const [a] = await startListeners([{ address: '127.0.0.1:0', h2c: true }]);
    const session = http2.connect(`http://127.0.0.1:${portOf(a)}`);
    onClose(() => session.close());
    expect(await h2Get(session)).toBe('hello over h2');
  });

  it('a Unix socket listener, beside a TCP one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-uds-'));
    onClose(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'gw.sock');
    const bound = await startListeners(['127.0.0.1:0', `unix:${path}`]);
    expect(bound.map((b) => b.kind)).toEqual(['tcp', 'uds']);
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/', agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(body).toBe('hello over h1');
  });

  it('an unreadable certificate fails the build, naming the key and the file', async () => {
    await expect(
      startListeners([{ address: '127.0.0.1:0', tls: { cert: 'localhost.pem', key: './gone.key' } }]),
    ).rejects.toThrow('listeners[0].tls.key: cannot read ./gone.key: no such file');
    await expect(
      startListeners([
        '127.0.0.1:0',
        {
          address: '127.0.0.1:0',
          tls: {
            cert: 'localhost.pem',
            key: 'localhost.key',
            sni: { 'a.test': { cert: 'x.pem', key: 'a.test.key' } },
          },
        },
      ]),
    ).rejects.toThrow('listeners[1].tls.sni["a.test"].cert: cannot read x.pem: no such file');
    await expect(
      startListeners([{ address: '127.0.0.1:0', tls: { cert: 'a.test.pem', key: 'b.test.key' } }]),
    ).rejects.toThrow(/^listeners\[0\]\.tls: certificate or key not usable/);
  });
});

function h2Get(session: http2.ClientHttp2Session): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
    session.on('error', reject);
  });
}
