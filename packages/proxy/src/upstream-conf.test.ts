/**
 * What the proxy takes from the server configuration for its upstream connections, end to end on
 * real sockets: source addresses (`client_bind_to_ipv4`), the default upstream CA (`ca_file`),
 * client certificates given as a chain, pooled connections shared by peers whose TLS material is
 * equal but built per request, and the upstream digest of a Unix-socket peer.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpPeer, type Logger, ServerConf, ShutdownController } from '@pingora-ts/core';
import { answerWhoCalled, type CallerSeen, onClose, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, memoryLogger, request } from '../test/helpers.js';
import { httpProxyService, type ProxyConf, type ProxyHttp, type UpstreamDigest } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../tls-openssl/test/fixtures');
const fxPath = (name: string) => join(FIXTURES, name);
const fx = (name: string) => readFileSync(fxPath(name));
const CA = fx('ca.pem');

afterEach(closeAll);

/** Listens (TCP on 127.0.0.1:0, or a Unix socket path) and closes with its connections after the test. */
async function listen(
  server: net.Server,
  path?: string,
): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (c: net.Socket) => {
    accepted++;
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) =>
    path === undefined ? server.listen(0, '127.0.0.1', r) : server.listen(path, r),
  );
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  );
  const port = path === undefined ? (server.address() as net.AddressInfo).port : 0;
  return { port, connections: () => accepted };
}

/** An HTTPS origin (`origin.test`); with `clientCa`, it requires a client certificate under it. */
function tlsOrigin(clientCa?: Buffer): Promise<{ port: number; connections: () => number }> {
  const opts: https.ServerOptions = { cert: fx('origin.test.pem'), key: fx('origin.test.key') };
  if (clientCa !== undefined)
    Object.assign(opts, { ca: clientCa, requestCert: true, rejectUnauthorized: true });
  const s = https.createServer(opts, answerWhoCalled);
  s.on('tlsClientError', () => {});
  return listen(s);
}

/** `httpProxyService(conf, inner)` listening on 127.0.0.1:0. */
async function startConfProxy<Ctx>(conf: ProxyConf, inner: ProxyHttp<Ctx>): Promise<number> {
  const logger: Logger = memoryLogger();
  const service = httpProxyService(conf, inner, { logger });
  service.addTcp('127.0.0.1:0');
  return startService(service, new ShutdownController());
}

async function getSeen(port: number): Promise<{ status: number; seen: CallerSeen | undefined }> {
  const r = await request(`http://127.0.0.1:${port}/`);
  return { status: r.status, seen: r.status === 200 ? (JSON.parse(r.body) as CallerSeen) : undefined };
}

describe('httpProxyService reads the upstream keys of the server configuration', () => {
  it('client_bind_to_ipv4: the origin sees the configured source address', async () => {
    const origin = await listen(http.createServer(answerWhoCalled));
    const conf = ServerConf.fromYaml('version: 1\nclient_bind_to_ipv4: ["127.0.0.2"]\n');
    const port = await startConfProxy(conf, {
      upstreamPeer: () => new HttpPeer(`127.0.0.1:${origin.port}`, false, ''),
    });
    const { status, seen } = await getSeen(port);
    expect(status).toBe(200);
    expect(seen?.remoteAddress).toBe('127.0.0.2');
  });

  it("a peer's bindTo wins over client_bind_to_ipv4", async () => {
    const origin = await listen(http.createServer(answerWhoCalled));
    const conf = new ServerConf({ clientBindToIpv4: ['127.0.0.2'] });
    const port = await startConfProxy(conf, {
      upstreamPeer: () => {
        const p = new HttpPeer(`127.0.0.1:${origin.port}`, false, '');
        p.options.bindTo = '127.0.0.3';
        return p;
      },
    });
    expect((await getSeen(port)).seen?.remoteAddress).toBe('127.0.0.3');
  });

  it('ca_file: TLS peers without a CA of their own verify against it', async () => {
    const origin = await tlsOrigin();
    const peer = () => new HttpPeer(`127.0.0.1:${origin.port}`, true, 'origin.test');
    const withCa = await startConfProxy(new ServerConf({ caFile: fxPath('ca.pem') }), { upstreamPeer: peer });
    expect((await getSeen(withCa)).status).toBe(200);
    // Without it the system store does not know the test CA: 502.
    const without = await startConfProxy(new ServerConf(), { upstreamPeer: peer });
    expect((await getSeen(without)).status).toBe(502);
  });
});

describe('client certificates and the upstream pool', () => {
  it('a client certificate chain given as a list reaches an origin that requires it', async () => {
    const origin = await tlsOrigin(CA);
    const port = await startConfProxy(new ServerConf(), {
      upstreamPeer: () => {
        const p = HttpPeer.newMtls(`127.0.0.1:${origin.port}`, 'origin.test', {
          cert: [fx('chain-client.pem'), fx('intermediate.pem')],
          key: fx('chain-client.key'),
        });
        p.options.ca = CA;
        return p;
      },
    });
    const { status, seen } = await getSeen(port);
    expect(status).toBe(200);
    expect(seen?.clientCN).toBe('chain-client-1');
  });

  it('certificates built per request still reuse one upstream connection', async () => {
    const origin = await tlsOrigin(CA);
    const conf = new ServerConf();
    const port = await startConfProxy(conf, {
      upstreamPeer: () => {
        // Fresh buffers every request: equal content, distinct objects.
        const p = HttpPeer.newMtls(`127.0.0.1:${origin.port}`, 'origin.test', {
          cert: Buffer.from(fx('client.pem')),
          key: Buffer.from(fx('client.key')),
        });
        p.options.ca = Buffer.from(CA);
        return p;
      },
    });
    for (let i = 0; i < 3; i++) expect((await getSeen(port)).seen?.clientCN).toBe('client-1');
    expect(origin.connections()).toBe(1);
  });
});

describe('Unix-socket peers', () => {
  it('the upstream digest names the socket path', async () => {
    const path = join(tmpdir(), `pingora-ts-proxy-uds-${process.pid}-${Date.now()}.sock`);
    await listen(http.createServer(answerWhoCalled), path);
    const digests: UpstreamDigest[] = [];
    const peers: string[] = [];
    const port = await startConfProxy(new ServerConf(), {
      upstreamPeer: () => HttpPeer.newUds(path, false, ''),
      connectedToUpstream(_s, _reused, peer, digest) {
        digests.push(digest);
        peers.push(String(peer.address));
      },
    });
    expect((await getSeen(port)).status).toBe(200);
    expect((await getSeen(port)).status).toBe(200);
    expect(peers).toEqual([path, path]);
    expect(digests.map((d) => [d.reused, d.remoteAddress])).toEqual([
      [false, path],
      [true, path],
    ]);
  });
});
