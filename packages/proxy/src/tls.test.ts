/**
 * TLS end to end through the proxy: a TLS listener in front (HTTP/1.1, keep-alive, mutual TLS,
 * WebSocket) and HTTPS origins behind (verification, SNI, client certificates, error statuses).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  HttpPeer,
  HttpServer,
  type Logger,
  Service,
  ShutdownController,
  TlsSettings,
} from '@pingora-ts/core';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { onClose, requirePeer, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeAll, memoryLogger, startOrigin, startProxy, startRawOrigin, waitFor } from '../test/helpers.js';
import { HttpProxy, type HttpProxyOptions, type ProxyHttp } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const fxPath = (name: string) => join(FIXTURES, name);
const CA = fx('ca.pem');
const CLIENT = { cert: fx('client.pem'), key: fx('client.key') };
const hasCurl = requirePeer('curl');

afterEach(closeAll);

/** A proxy service with a TLS listener on 127.0.0.1:0. */
async function startTlsProxy<Ctx>(
  inner: ProxyHttp<Ctx>,
  settings: TlsSettings = TlsSettings.intermediate(fxPath('localhost.pem'), fxPath('localhost.key')),
  options: HttpProxyOptions = {},
): Promise<{ port: number; proxy: HttpProxy<Ctx>; logs: ReturnType<typeof memoryLogger>['lines'] }> {
  const logger: Logger & { lines: ReturnType<typeof memoryLogger>['lines'] } = memoryLogger();
  const proxy = new HttpProxy(inner, { logger, ...options });
  const service = new Service('tls proxy', new HttpServer(proxy), { logger });
  service.addTlsWithSettings('127.0.0.1:0', undefined, settings);
  return { port: await startService(service, new ShutdownController()), proxy, logs: logger.lines };
}

/** An HTTPS origin presenting `cert`.pem; answers JSON describing the request (and the client certificate). */
async function startHttpsOrigin(
  cert: string,
  opts: https.ServerOptions = {},
): Promise<{ port: number; connections: number; server: https.Server }> {
  const o = { port: 0, connections: 0, server: undefined as unknown as https.Server };
  o.server = https.createServer(
    { cert: fx(`${cert}.pem`), key: fx(`${cert}.key`), ALPNProtocols: ['h2', 'http/1.1'], ...opts },
    (req, res) => {
      const s = req.socket as tls.TLSSocket;
      const peerCert = s.getPeerCertificate();
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          url: req.url,
          sni: (s as tls.TLSSocket & { servername?: string | false }).servername,
          alpn: s.alpnProtocol,
          clientCN: peerCert?.subject?.CN ?? null,
          headers: req.headers,
        }),
      );
    },
  );
  o.server.on('secureConnection', () => o.connections++);
  o.server.on('tlsClientError', () => {});
  await new Promise<void>((r) => o.server.listen(0, '127.0.0.1', r));
  o.port = (o.server.address() as net.AddressInfo).port;
  onClose(
    () =>
      new Promise<void>((r) => {
        o.server.closeAllConnections();
        o.server.close(() => r());
      }),
  );
  return o;
}

function httpsRequest(
  port: number,
  options: https.RequestOptions = {},
): Promise<{ status: number; body: string; socket: tls.TLSSocket; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: CA, agent: false, ...options },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const protocol = socket.getProtocol();
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, socket, protocol }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS listener in front of the proxy', () => {
  it('HTTP/1.1 over TLS reaches the origin; keep-alive reuses the TLS connection', async () => {
    const origin = await startOrigin((req, res) => res.end(`origin saw ${req.url}`));
    const p = await startTlsProxy({ upstreamPeer: () => origin.peer() });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const a = await httpsRequest(p.port, { path: '/one', agent });
    const b = await httpsRequest(p.port, { path: '/two', agent });
    agent.destroy();
    expect([a.status, a.body, b.body]).toEqual([200, 'origin saw /one', 'origin saw /two']);
    expect(b.socket).toBe(a.socket);
    expect(a.protocol).toBe('TLSv1.3');
  });

  it.skipIf(!hasCurl)('curl --cacert through the TLS listener', async () => {
    const origin = await startOrigin((req, res) =>
      res.end(`hello ${req.headers['user-agent']?.split('/')[0]}`),
    );
    const p = await startTlsProxy({ upstreamPeer: () => origin.peer() });
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '--cacert',
          fxPath('ca.pem'),
          '--resolve',
          `localhost:${p.port}:127.0.0.1`,
          `https://localhost:${p.port}/x`,
        ],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    expect(out).toBe('hello curl');
  });

  it('proxy phases see the TLS digest: SNI, protocol, and the mTLS client certificate', async () => {
    let seen: { sni?: string; version?: string; cn?: unknown; verified?: boolean } | undefined;
    const origin = await startOrigin((req, res) => res.end(String(req.headers['x-client-cn'])));
    const settings = TlsSettings.intermediate(fxPath('localhost.pem'), fxPath('localhost.key'))
      .setVerify('require')
      .setCa(CA);
    const p = await startTlsProxy(
      {
        requestFilter(session) {
          const ssl = session.downstream.digest().sslDigest;
          seen = {
            sni: ssl?.servername,
            version: ssl?.version,
            cn: ssl?.clientCert?.subject.CN,
            verified: ssl?.clientCertVerified,
          };
          return false;
        },
        upstreamPeer: () => origin.peer(),
        upstreamRequestFilter(session, up) {
          up.insertHeader(
            'X-Client-CN',
            String(session.downstream.digest().sslDigest?.clientCert?.subject.CN),
          );
        },
      },
      settings,
    );
    const r = await httpsRequest(p.port, CLIENT);
    expect(r.body).toBe('client-1');
    expect(seen).toEqual({ sni: 'localhost', version: 'TLSv1.3', cn: 'client-1', verified: true });
    await expect(httpsRequest(p.port)).rejects.toThrow();
  });

  it('a plain-HTTP session reports no TLS digest', async () => {
    let https_: boolean | undefined;
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({
      requestFilter(session) {
        https_ = session.downstream.digest().sslDigest !== undefined;
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    await new Promise<void>((r) => http.get(p.url('/'), (res) => res.resume().on('end', () => r())));
    expect(https_).toBe(false);
  });

  it('WebSocket over HTTP/1.1 through the TLS listener', async () => {
    const origin = await startOrigin((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ noServer: true });
    origin.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m, binary) => ws.send(m, { binary }))),
    );
    const p = await startTlsProxy({ upstreamPeer: () => origin.peer() });
    const wsOptions: import('ws').ClientOptions = {
      ca: CA,
      servername: 'localhost',
    } as import('ws').ClientOptions;
    const ws = new WebSocket(`wss://127.0.0.1:${p.port}/chat`, wsOptions);
    onClose(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const got = new Promise<string>((r) => ws.once('message', (m) => r(m.toString())));
    ws.send('over wss');
    expect(await got).toBe('over wss');
    ws.close(1000, 'done');
    expect(await new Promise<number>((r) => ws.on('close', (c) => r(c)))).toBe(1000);
  });
});

describe('HTTPS origins behind the proxy', () => {
  /** A proxy whose peer is built by `peer`; records the error failToConnect saw. */
  async function proxyTo(peer: () => HttpPeer) {
    const errors: PingoraError[] = [];
    const p = await startTlsProxy({
      upstreamPeer: () => peer(),
      failToConnect: (_s, _peer, _ctx, e) => {
        errors.push(e);
        return e;
      },
    });
    return { ...p, errors, get: (path = '/') => httpsRequest(p.port, { path }) };
  }

  const tlsPeer = (port: number, sni: string) => {
    const peer = new HttpPeer(`127.0.0.1:${port}`, true, sni);
    peer.options.ca = CA;
    return peer;
  };

  it('verifies the origin with `ca`, sends the SNI, offers http/1.1 by default', async () => {
    const o = await startHttpsOrigin('origin.test');
    const p = await proxyTo(() => tlsPeer(o.port, 'origin.test'));
    const r = await p.get('/a');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      url: '/a',
      sni: 'origin.test',
      alpn: 'http/1.1',
      clientCN: null,
    });
  });

  it('without the CA → 502 with InvalidCert naming the peer', async () => {
    const o = await startHttpsOrigin('origin.test');
    const p = await proxyTo(() => new HttpPeer(`127.0.0.1:${o.port}`, true, 'origin.test'));
    expect((await p.get()).status).toBe(502);
    expect(p.errors[0]?.type).toBe(ErrorType.InvalidCert);
    expect(p.errors[0]?.source).toBe('Upstream');
    expect(p.errors[0]?.context).toContain(`addr: 127.0.0.1:${o.port}, scheme: HTTPS, sni: origin.test`);
    await waitFor(() => p.logs.some((l) => l.msg.includes('InvalidCert') && l.msg.includes('status: 502')));
  });

  it('wrong host name → 502 InvalidCert, unless verifyHostname is off or alternativeCn matches', async () => {
    const o = await startHttpsOrigin('wrong.test');
    const p = await proxyTo(() => tlsPeer(o.port, 'origin.test'));
    expect((await p.get()).status).toBe(502);
    expect(p.errors[0]?.type).toBe(ErrorType.InvalidCert);
    const noHostCheck = await proxyTo(() => {
      const peer = tlsPeer(o.port, 'origin.test');
      peer.options.verifyHostname = false;
      return peer;
    });
    expect((await noHostCheck.get()).status).toBe(200);
    const alt = await proxyTo(() => {
      const peer = tlsPeer(o.port, 'origin.test');
      peer.options.alternativeCn = 'wrong.test';
      return peer;
    });
    expect((await alt.get()).status).toBe(200);
  });

  it('an expired origin certificate → 502 InvalidCert', async () => {
    const o = await startHttpsOrigin('expired.test');
    const p = await proxyTo(() => tlsPeer(o.port, 'expired.test'));
    expect((await p.get()).status).toBe(502);
    expect(p.errors[0]?.type).toBe(ErrorType.InvalidCert);
    expect(String(p.errors[0])).toContain('CERT_HAS_EXPIRED');
  });

  it('an empty SNI sends no SNI and skips verification (untrusted certificate accepted)', async () => {
    const o = await startHttpsOrigin('wrong.test');
    const p = await proxyTo(() => new HttpPeer(`127.0.0.1:${o.port}`, true, ''));
    const r = await p.get();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).sni).toBe(false);
  });

  it('presents a client certificate to an origin that requires mutual TLS', async () => {
    const o = await startHttpsOrigin('origin.test', { requestCert: true, rejectUnauthorized: true, ca: CA });
    const withCert = await proxyTo(() => {
      const peer = HttpPeer.newMtls(`127.0.0.1:${o.port}`, 'origin.test', CLIENT);
      peer.options.ca = CA;
      return peer;
    });
    const r = await withCert.get();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).clientCN).toBe('client-1');
    const without = await proxyTo(() => tlsPeer(o.port, 'origin.test'));
    expect((await without.get()).status).toBe(502);
  });

  it('a TLS handshake that never completes → 504 (TLSHandshakeTimedout)', async () => {
    const silent = await startRawOrigin(() => {});
    const p = await proxyTo(() => {
      const peer = tlsPeer(silent.port, 'origin.test');
      // Long enough that a stalled event loop cannot fire it before the TCP connect is seen,
      // which would make it a ConnectTimedout.
      peer.options.connectionTimeout = 500;
      return peer;
    });
    expect((await p.get()).status).toBe(504);
    expect(p.errors[0]?.type).toBe(ErrorType.TLSHandshakeTimedout);
  });

  it('an origin that is not TLS at all → 502 TLSHandshakeFailure', async () => {
    const plain = await startOrigin((_req, res) => res.end('plain'));
    const p = await proxyTo(() => tlsPeer(plain.port, 'origin.test'));
    expect((await p.get()).status).toBe(502);
    expect(p.errors[0]?.type).toBe(ErrorType.TLSHandshakeFailure);
  });

  it('TLS upstream connections are pooled per TLS settings: same settings reuse, another SNI does not', async () => {
    const o = await startHttpsOrigin('origin.test');
    let sni = 'origin.test';
    const p = await proxyTo(() => tlsPeer(o.port, sni));
    for (let i = 0; i < 3; i++) expect((await p.get()).status).toBe(200);
    expect(o.connections).toBe(1);
    sni = 'my-host.origin.test';
    expect((await p.get()).status).toBe(200);
    expect(o.connections).toBe(2);
    expect(p.proxy.connector.stats).toEqual({ connectionsCreated: 2, reuses: 2 });
  });

  it('connectedToUpstream sees the negotiated TLS parameters', async () => {
    const o = await startHttpsOrigin('origin.test');
    let tlsInfo: unknown;
    const p = await startTlsProxy({
      upstreamPeer: () => {
        const peer = tlsPeer(o.port, 'origin.test');
        return peer;
      },
      connectedToUpstream(_s, _reused, _peer, digest) {
        tlsInfo = digest.tls;
      },
    });
    expect((await httpsRequest(p.port)).status).toBe(200);
    expect(tlsInfo).toMatchObject({ protocol: 'TLSv1.3', alpn: 'http/1.1' });
  });
});
