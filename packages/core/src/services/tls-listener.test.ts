import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ErrorType } from '@pingora-ts/error';
import { requirePeer, waitFor } from '@pingora-ts/test-utils';
import { getSslDigest, TlsSettings } from '@pingora-ts/tls-openssl';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogEntry, memoryLogger, roundTrip, startedService, tcpPort } from '../../test/helpers.js';
import { EchoApp } from '../apps/echo.js';
import { HttpServer } from '../apps/http-app.js';
import type { ServerApp } from '../apps/server-app.js';
import { serveHttpApp } from '../apps/serve-http.js';
import type { Service } from './listening.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => join(FIXTURES, name);
const CA = readFileSync(fx('ca.pem'));
const CLIENT = { cert: readFileSync(fx('client.pem')), key: readFileSync(fx('client.key')) };
const hasCurl = requirePeer('curl');

let entries: LogEntry[] = [];
const services: Service[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
  entries = [];
});

const started = <A extends ServerApp>(app: A, setup: (s: Service<A>) => void): Promise<Service<A>> =>
  startedService('tls test', entries, services, app, setup);

function tlsClient(port: number, options: tls.ConnectionOptions = {}): tls.TLSSocket {
  const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: CA, ...options });
  sockets.push(s);
  return s;
}

/** An HTTP app answering with what the session knows about TLS. */
const digestApp = () =>
  new HttpServer(
    serveHttpApp({
      response(session) {
        const ssl = session.digest().sslDigest;
        const body = JSON.stringify({
          https: ssl !== undefined,
          version: ssl?.version,
          sni: ssl?.servername,
          alpn: ssl?.alpn ?? null,
          client: ssl?.clientCert?.subject.CN ?? null,
          extension: ssl?.extension ?? null,
        });
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body };
      },
    }),
    { logger: memoryLogger(entries) },
  );

function httpsGet(
  port: number,
  options: https.RequestOptions = {},
): Promise<{ status: number; body: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: CA, agent: false, ...options },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, socket: res.socket as tls.TLSSocket }));
      },
    );
    req.on('error', reject);
  });
}

const logged = (msg: string) => entries.filter((e) => e.msg?.startsWith(msg));

describe('Service TLS listeners', () => {
  it('addTls: the app gets a handshaken TLS socket (raw echo app)', async () => {
    const app = new EchoApp();
    const svc = await started(app, (s) => s.addTls('127.0.0.1:0', fx('localhost.pem'), fx('localhost.key')));
    expect(svc.listeners()[0]).toMatchObject({ kind: 'tcp', addr: '127.0.0.1:0' });
    const c = tlsClient(tcpPort(svc));
    await once(c, 'secureConnect');
    expect(await roundTrip(c, 'over tls')).toBe('over tls');
    expect(svc.connections).toBe(1);
    expect(app.served).toBe(1);
  });

  it('HTTP/1.1 over TLS end to end: the session knows it is HTTPS; keep-alive reuses the TLS connection', async () => {
    const svc = await started(digestApp(), (s) =>
      s.addTlsWithSettings(
        '127.0.0.1:0',
        { noDelay: true },
        TlsSettings.intermediate(fx('localhost.pem'), fx('localhost.key')),
      ),
    );
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const port = tcpPort(svc);
    const first = await httpsGet(port, { agent });
    const second = await httpsGet(port, { agent });
    agent.destroy();
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({
      https: true,
      version: 'TLSv1.3',
      sni: 'localhost',
      alpn: null,
      client: null,
      extension: null,
    });
    expect(second.socket).toBe(first.socket);
  });

  it.skipIf(!hasCurl)(
    'curl --cacert over TLS, and curl --http1.0 against an h2-capable listener (no ALPN answer)',
    async () => {
      const svc = await started(digestApp(), (s) =>
        s.addTlsWithSettings(
          '127.0.0.1:0',
          undefined,
          TlsSettings.intermediate(fx('localhost.pem'), fx('localhost.key')).enableH2(),
        ),
      );
      const port = tcpPort(svc);
      const curl = (...args: string[]) =>
        new Promise<string>((resolve, reject) =>
          execFile(
            'curl',
            [
              '-sS',
              '--cacert',
              fx('ca.pem'),
              '--resolve',
              `localhost:${port}:127.0.0.1`,
              ...args,
              `https://localhost:${port}/`,
            ],
            (err, out) => (err ? reject(err) : resolve(out)),
          ),
        );
      expect(JSON.parse(await curl('--http1.1'))).toMatchObject({
        https: true,
        sni: 'localhost',
        alpn: 'http/1.1',
      });
      expect(JSON.parse(await curl('--http1.0'))).toMatchObject({ https: true, alpn: null });
    },
  );

  it('the connection filter runs before the handshake', async () => {
    const seen: string[] = [];
    const svc = await started(new EchoApp(), (s) =>
      s.addTls('127.0.0.1:0', fx('localhost.pem'), fx('localhost.key')).setConnectionFilter(({ address }) => {
        seen.push(address);
        return false;
      }),
    );
    const c = tlsClient(tcpPort(svc));
    const err = await new Promise<NodeJS.ErrnoException | undefined>((r) => {
      c.on('error', r);
      c.on('secureConnect', () => r(undefined));
    });
    expect(err?.code).toMatch(/ECONNRESET|EPIPE/);
    expect(seen).toEqual(['127.0.0.1']);
    expect(logged('Downstream handshake error')).toEqual([]);
  });

  it('a failed handshake is logged and closes that connection only', async () => {
    const svc = await started(new EchoApp(), (s) =>
      s.addTls('127.0.0.1:0', fx('localhost.pem'), fx('localhost.key')),
    );
    const port = tcpPort(svc);
    const bad = tlsClient(port, { ca: readFileSync(fx('other-ca.pem')) }); // the client refuses the server
    await new Promise((r) => bad.on('error', r));
    const plain = net.connect(port, '127.0.0.1');
    sockets.push(plain);
    plain.on('error', () => {});
    plain.write('GET / HTTP/1.1\r\n\r\n');
    await once(plain, 'close');
    await waitFor(() => logged('Downstream handshake error').length >= 2, {
      message: 'two handshake error log lines',
    });
    const lines = logged('Downstream handshake error');
    expect(lines.length).toBe(2);
    expect(lines.every((l) => l.level === 'warn' && l.obj.code === ErrorType.TLSHandshakeFailure.code)).toBe(
      true,
    );
    const ok = tlsClient(port);
    await once(ok, 'secureConnect');
    expect(await roundTrip(ok, 'still serving')).toBe('still serving');
  });

  it('a TCP probe (connect, then close without a byte) is logged at debug, not as a handshake error', async () => {
    const svc = await started(new EchoApp(), (s) =>
      s.addTls('127.0.0.1:0', fx('localhost.pem'), fx('localhost.key')),
    );
    const probe = net.connect(tcpPort(svc), '127.0.0.1');
    sockets.push(probe);
    await once(probe, 'connect');
    probe.end();
    await waitFor(() => logged('Downstream closed before TLS').length > 0, {
      message: "the 'Downstream closed before TLS' log line",
    });
    expect(logged('Downstream closed before TLS')[0]?.level).toBe('debug');
    expect(logged('Downstream handshake error')).toEqual([]);
  });

  it('a client that never finishes the handshake is cut off at the handshake timeout (ClientHello wait included)', async () => {
    for (const settings of [
      TlsSettings.intermediate(fx('localhost.pem'), fx('localhost.key')).setHandshakeTimeout(50),
      TlsSettings.intermediate(fx('localhost.pem'), fx('localhost.key')).enableH2().setHandshakeTimeout(50),
    ]) {
      entries.length = 0;
      const svc = await started(new EchoApp(), (s) =>
        s.addTlsWithSettings('127.0.0.1:0', undefined, settings),
      );
      const idle = net.connect(tcpPort(svc), '127.0.0.1');
      sockets.push(idle);
      idle.on('error', () => {});
      await once(idle, 'close');
      await waitFor(() => logged('Downstream handshake error').length > 0, {
        message: 'the handshake timeout log line',
      });
      expect(logged('Downstream handshake error')[0]?.obj.code).toBe(ErrorType.TLSHandshakeTimedout.code);
    }
  });

  it('mutual TLS: the client certificate and the handshakeCompleteCallback value reach the session', async () => {
    const settings = TlsSettings.withCallbacks({
      handshakeCompleteCallback: (s) => `tenant:${s.getPeerCertificate().subject.CN}`,
    })
      .setCertificate({ cert: readFileSync(fx('localhost.pem')), key: readFileSync(fx('localhost.key')) })
      .setVerify('require')
      .setCa(CA);
    const svc = await started(digestApp(), (s) => s.addTlsWithSettings('127.0.0.1:0', undefined, settings));
    const port = tcpPort(svc);
    const r = await httpsGet(port, CLIENT);
    expect(JSON.parse(r.body)).toMatchObject({ client: 'client-1', extension: 'tenant:client-1' });
    await expect(httpsGet(port)).rejects.toThrow();
    expect(getSslDigest(r.socket)).toBeUndefined(); // the client side has no server digest
  });

  it('an h2 ALPN connection handed to the HTTP server gets an answer or a close, never a hang', async () => {
    const svc = await started(digestApp(), (s) =>
      s.addTlsWithSettings(
        '127.0.0.1:0',
        undefined,
        TlsSettings.intermediate(fx('localhost.pem'), fx('localhost.key')).enableH2(),
      ),
    );
    const session = http2.connect(`https://localhost:${tcpPort(svc)}`, {
      ca: CA,
      host: '127.0.0.1',
      servername: 'localhost',
    });
    session.on('error', () => {});
    const alpn = await new Promise<string | undefined>((r) =>
      session.on('connect', () => r(session.alpnProtocol)),
    );
    expect(alpn).toBe('h2');
    const req = session.request({ ':path': '/' });
    req.on('error', () => {});
    req.end();
    // HTTP/1-only servers see the h2 preface, answer 400 and close; an h2-capable one answers.
    const outcome = await new Promise<string>((r) => {
      req.on('response', (h) => r(`status ${h[':status']}`));
      session.on('close', () => r('closed'));
    });
    expect(outcome).toMatch(/^(status 200|closed)$/);
    session.destroy();
  });

  it('fast stop destroys TLS connections, including one still in its handshake', async () => {
    const svc = await started(new EchoApp(), (s) =>
      s.addTls('127.0.0.1:0', fx('localhost.pem'), fx('localhost.key')),
    );
    const port = tcpPort(svc);
    const secured = tlsClient(port);
    await once(secured, 'secureConnect');
    const pending = net.connect(port, '127.0.0.1');
    sockets.push(pending);
    pending.on('error', () => {});
    await once(pending, 'connect');
    await waitFor(() => svc.connections >= 2, { message: 'both connections in the service' });
    expect(svc.connections).toBe(2);
    const closed = Promise.all([once(secured, 'close'), once(pending, 'close')]);
    await svc.stop(false, 0);
    await closed;
    expect(svc.connections).toBe(0);
  });
});
