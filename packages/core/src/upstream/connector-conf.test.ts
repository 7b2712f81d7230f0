/**
 * What the connector takes from the server configuration and from TLS material, on real sockets:
 * source addresses (`client_bind_to_ipv4` / `PeerOptions.bindTo`), the default upstream CA
 * (`ca_file`), a client certificate given as a chain, pool keys that compare TLS material by
 * content, and Unix-socket peers that name their path.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { answerWhoCalled, type CallerSeen, closeAll, onClose } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamResponseHandler, UpstreamSession } from '../protocols/upstream-session.js';
import { ServerConf } from '../server/conf.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fxPath = (name: string) => join(FIXTURES, name);
const fx = (name: string) => readFileSync(fxPath(name));
const CA = fx('ca.pem');

afterEach(closeAll);

async function listening(server: http.Server, where: { path: string } | { port: 0; host: string }) {
  const sockets = new Set<net.Socket>();
  server.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) =>
    'path' in where ? server.listen(where.path, r) : server.listen(0, where.host, r),
  );
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  );
}

/** A plain HTTP origin (on 127.0.0.1, or `'::'` for both families) that answers what it saw. */
async function plainOrigin(host = '127.0.0.1'): Promise<number> {
  const s = http.createServer(answerWhoCalled);
  await listening(s, { port: 0, host });
  return (s.address() as net.AddressInfo).port;
}

/** An HTTPS origin (`origin.test`); with `clientCa`, it requires a client certificate under it. */
async function tlsOrigin(clientCa?: Buffer): Promise<{ port: number; handshakes: number }> {
  const o = { port: 0, handshakes: 0 };
  const opts: https.ServerOptions = { cert: fx('origin.test.pem'), key: fx('origin.test.key') };
  if (clientCa !== undefined)
    Object.assign(opts, { ca: clientCa, requestCert: true, rejectUnauthorized: true });
  const s = https.createServer(opts, answerWhoCalled);
  s.on('secureConnection', () => o.handshakes++);
  s.on('tlsClientError', () => {});
  await listening(s, { port: 0, host: '127.0.0.1' });
  o.port = (s.address() as net.AddressInfo).port;
  return o;
}

/** One GET on `conn`; resolves with the status and what the origin saw. */
function get(conn: UpstreamSession): Promise<{ status: number; seen: CallerSeen }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let body = '';
    const handler: UpstreamResponseHandler = {
      onResponseHeader: (h) => (status = h.status),
      onResponseBody: (c) => (body += c),
      onResponseTrailers: () => {},
      onResponseEnd: () => resolve({ status, seen: JSON.parse(body) as CallerSeen }),
      onError: reject,
    };
    const req = RequestHeader.build('GET', '/');
    req.insertHeader('Host', 'origin.test');
    conn.sendRequest(req, handler, 'none', { readTimeout: undefined, writeTimeout: undefined });
  });
}

/** A full exchange through `c`; the session goes back to the pool. */
async function exchange(c: Connector, peer: HttpPeer): Promise<{ reused: boolean; seen: CallerSeen }> {
  const [conn, reused] = await c.getHttpSession(peer);
  const { status, seen } = await get(conn);
  expect(status).toBe(200);
  c.releaseHttpSession(conn, peer);
  return { reused, seen };
}

describe('source address (client_bind_to_ipv4, PeerOptions.bindTo)', () => {
  it('binds upstream connections to the server-wide source address', async () => {
    const port = await plainOrigin();
    const conf = ServerConf.fromYaml('version: 1\nclient_bind_to_ipv4: ["127.0.0.2"]\n');
    const c = Connector.fromServerConf(conf);
    const { seen } = await exchange(c, new HttpPeer(`127.0.0.1:${port}`, false, ''));
    expect(seen.remoteAddress).toBe('127.0.0.2');
    c.close();
  });

  it("a peer's bindTo wins over the server-wide address", async () => {
    const port = await plainOrigin();
    const c = new Connector({ bindToIpv4: ['127.0.0.2'] });
    const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
    peer.options.bindTo = '127.0.0.3';
    expect((await exchange(c, peer)).seen.remoteAddress).toBe('127.0.0.3');
    // A connection from another source address is not interchangeable.
    expect(peer.reuseKey()).not.toBe(new HttpPeer(`127.0.0.1:${port}`, false, '').reuseKey());
    c.close();
  });

  it('rejects source addresses that are not IPs of the right family', async () => {
    expect(() => new Connector({ bindToIpv4: ['::1'] })).toThrow(/bindToIpv4: "::1" is not an IPv4 address/);
    expect(() => new Connector({ bindToIpv6: ['localhost'] })).toThrow(/bindToIpv6/);
    const peer = new HttpPeer('127.0.0.1:9', false, '');
    peer.options.bindTo = 'not-an-ip';
    const err = (await new Connector().getHttpSession(peer).catch((e: PingoraError) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.ConnectError);
    expect(err.context).toContain('not-an-ip');
  });

  it('a host name connects with the family of the configured source addresses', async () => {
    const port = await plainOrigin();
    const c = new Connector({ bindToIpv4: ['127.0.0.2'] });
    const { seen } = await exchange(c, new HttpPeer(`localhost:${port}`, false, ''));
    expect(seen.remoteAddress).toBe('127.0.0.2');
    c.close();
  });

  it('with both families configured, a host name is resolved first and bound by its family', async () => {
    const port = await plainOrigin('::');
    const c = new Connector({ bindToIpv4: ['127.0.0.2'], bindToIpv6: ['::1'] });
    const { seen } = await exchange(c, new HttpPeer(`localhost:${port}`, false, ''));
    // localhost is 127.0.0.1 on most hosts (seen through the dual-stack listener), ::1 on some.
    expect(['::ffff:127.0.0.2', '::1']).toContain(seen.remoteAddress);
    c.close();
  });

  it('an IPv6-only list leaves IPv4 connections unbound', async () => {
    const port = await plainOrigin();
    const c = new Connector({ bindToIpv6: ['::1'] });
    const { seen } = await exchange(c, new HttpPeer(`127.0.0.1:${port}`, false, ''));
    expect(seen.remoteAddress).toBe('127.0.0.1');
    c.close();
  });
});

describe('ca_file: the default CA of TLS peers', () => {
  it('verifies an origin against ca_file when the peer sets no CA', async () => {
    const origin = await tlsOrigin();
    const conf = ServerConf.fromYaml(`version: 1\nca_file: ${JSON.stringify(fxPath('ca.pem'))}\n`);
    const c = Connector.fromServerConf(conf);
    const { seen } = await exchange(c, new HttpPeer(`127.0.0.1:${origin.port}`, true, 'origin.test'));
    expect(seen.clientCN).toBe(null);
    c.close();

    // Without it, the system store does not know the test CA.
    const plain = Connector.fromServerConf(ServerConf.default());
    const err = (await plain
      .getHttpSession(new HttpPeer(`127.0.0.1:${origin.port}`, true, 'origin.test'))
      .catch((e: PingoraError) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.InvalidCert);
  });

  it("a peer's own CA wins over ca_file", async () => {
    const origin = await tlsOrigin();
    const c = new Connector({ ca: CA });
    const peer = new HttpPeer(`127.0.0.1:${origin.port}`, true, 'origin.test');
    peer.options.ca = fx('other-ca.pem');
    const err = (await c.getHttpSession(peer).catch((e: PingoraError) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.InvalidCert);
  });

  it('an unreadable ca_file fails when the connector is built, naming the file', () => {
    const conf = new ServerConf({ caFile: join(tmpdir(), 'pingora-ts-no-such-ca.pem') });
    expect(() => Connector.fromServerConf(conf)).toThrow(/pingora-ts-no-such-ca\.pem/);
  });
});

describe('client certificate chains', () => {
  it('sends a chain given as a list (leaf, then intermediate) with its key', async () => {
    const origin = await tlsOrigin(CA);
    const c = new Connector();
    const peer = HttpPeer.newMtls(`127.0.0.1:${origin.port}`, 'origin.test', {
      cert: [fx('chain-client.pem'), fx('intermediate.pem')],
      key: fx('chain-client.key'),
    });
    peer.options.ca = CA;
    const { seen } = await exchange(c, peer);
    expect(seen.clientCN).toBe('chain-client-1');
    c.close();
  });
});

describe('pool keys compare TLS material by content', () => {
  it('peers with equal certificates in distinct buffers share one pooled connection', async () => {
    const origin = await tlsOrigin(CA);
    const c = new Connector();
    const build = () => {
      // A fresh copy of every piece, as a program that reads or builds them per request has.
      const p = HttpPeer.newMtls(`127.0.0.1:${origin.port}`, 'origin.test', {
        cert: Buffer.from(fx('client.pem')),
        key: Buffer.from(fx('client.key')),
      });
      p.options.ca = [Buffer.from(CA)];
      return p;
    };
    const a = build();
    const b = build();
    expect(a.reuseKey()).toBe(b.reuseKey());
    expect((await exchange(c, a)).reused).toBe(false);
    const second = await exchange(c, b);
    expect(second.reused).toBe(true);
    expect(second.seen.clientCN).toBe('client-1');
    expect(c.stats).toEqual({ connectionsCreated: 1, reuses: 1 });
    expect(origin.handshakes).toBe(1);
    c.close();
  });

  it('different material still separates pools', () => {
    const peer = (cert: string) => {
      const p = HttpPeer.newMtls('127.0.0.1:443', 'origin.test', { cert: fx(cert), key: fx('client.key') });
      p.options.ca = Buffer.from(CA);
      return p;
    };
    expect(peer('client.pem').reuseKey()).not.toBe(peer('ops-client.pem').reuseKey());
    const withCa = (ca: Buffer) => {
      const p = new HttpPeer('127.0.0.1:443', true, 'origin.test');
      p.options.ca = ca;
      return p;
    };
    expect(withCa(fx('ca.pem')).reuseKey()).not.toBe(withCa(fx('other-ca.pem')).reuseKey());
  });
});

describe('Unix-socket peers', () => {
  it('print and key by their path', async () => {
    const path = join(tmpdir(), `pingora-ts-uds-${process.pid}-${Date.now()}.sock`);
    const s = http.createServer(answerWhoCalled);
    await listening(s, { path });
    const peer = HttpPeer.newUds(path, false, '');
    expect(String(peer.address)).toBe(path);
    expect(`${peer.address}`).toBe(path);
    expect(peer.reuseKey()).toContain(path);
    expect(String(new HttpPeer(`unix:${path}`, false, '').address)).toBe(path);
    const c = new Connector();
    await exchange(c, peer);
    expect((await exchange(c, HttpPeer.newUds(path, false, ''))).reused).toBe(true);
    c.close();
  });
});
