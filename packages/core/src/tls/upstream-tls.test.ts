/**
 * Upstream TLS at the core level: the pool key covers every TLS field, `tlsConnectOptions` maps an
 * `HttpPeer` through tls-openssl, and `connectPeer` types handshake failures with the peer named.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPeer } from '../upstream/connect.js';
import { HttpPeer } from '../upstream/peer.js';
import { tlsConnectOptions } from '../upstream/tls-options.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const CA = fx('ca.pem');
const CLIENT = { cert: fx('client.pem'), key: fx('client.key') };

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Listens on 127.0.0.1:0; every accepted socket is destroyed when the test ends. */
async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const c of sockets) c.destroy();
    return close(cb);
  }) as typeof server.close;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function tlsOrigin(name: string): Promise<number> {
  const s = tls.createServer({ cert: fx(`${name}.pem`), key: fx(`${name}.key`) }, (c) => c.end());
  s.on('tlsClientError', () => {});
  return listen(s);
}

const peer = (port: number, sni = 'origin.test') => {
  const p = new HttpPeer(`127.0.0.1:${port}`, true, sni);
  p.options.ca = CA;
  return p;
};

describe('HttpPeer TLS fields and the pool key', () => {
  it('every TLS field changes the reuse key; equal settings (same material) share it', () => {
    const base = () => {
      const p = new HttpPeer('127.0.0.1:443', true, 'a.example');
      p.options.ca = CA;
      return p;
    };
    const variants: Array<(p: HttpPeer) => void> = [
      (p) => (p.sni = 'b.example'),
      (p) => (p.sni = ''),
      (p) => (p.options.verifyCert = false),
      (p) => (p.options.verifyHostname = false),
      (p) => (p.options.alternativeCn = 'alt.example'),
      (p) => (p.options.ca = fx('other-ca.pem')),
      (p) => (p.options.ca = undefined),
      (p) => (p.clientCertKey = CLIENT),
      (p) => (p.options.alpn = 'h2h1'),
      (p) => (p.groupKey = 'tenant-2'),
    ];
    const keys = variants.map((change) => {
      const p = base();
      change(p);
      return p.reuseKey();
    });
    expect(new Set([base().reuseKey(), ...keys]).size).toBe(variants.length + 1);
    expect(base().reuseKey()).toBe(base().reuseKey());
    const plain = new HttpPeer('127.0.0.1:443', false, '');
    expect(plain.reuseKey()).not.toBe(base().reuseKey());
  });

  it('tlsConnectOptions applies Pingora rules through tls-openssl', () => {
    const p = peer(443);
    const o = tlsConnectOptions(p);
    expect(o).toMatchObject({
      servername: 'origin.test',
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
    expect(o.secureContext).toBe(tlsConnectOptions(peer(443)).secureContext);
    const noSni = tlsConnectOptions(new HttpPeer('127.0.0.1:443', true, ''));
    expect(noSni.servername).toBeUndefined();
    expect(noSni.rejectUnauthorized).toBe(false);
  });
});

describe('connectPeer over TLS', () => {
  it('verifies and connects; reports the negotiated protocol', async () => {
    const port = await tlsOrigin('origin.test');
    const s = (await connectPeer(peer(port))) as tls.TLSSocket;
    expect(s.getProtocol()).toBe('TLSv1.3');
    expect(s.authorized).toBe(true);
    s.destroy();
  });

  it('maps certificate problems to InvalidCert and other failures to TLSHandshakeFailure, naming the peer', async () => {
    const wrong = await tlsOrigin('wrong.test');
    const expired = await tlsOrigin('expired.test');
    const errOf = (p: HttpPeer) =>
      connectPeer(p).then(
        (s) => {
          s.destroy();
          return undefined;
        },
        (e: PingoraError) => e,
      );
    const e1 = await errOf(peer(wrong));
    expect(e1?.type).toBe(ErrorType.InvalidCert);
    expect(e1?.source).toBe('Upstream');
    expect(e1?.context).toContain(`addr: 127.0.0.1:${wrong}, scheme: HTTPS, sni: origin.test`);
    expect(e1?.context).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect((await errOf(peer(expired, 'expired.test')))?.context).toContain('CERT_HAS_EXPIRED');
    const untrusted = peer(wrong, 'wrong.test');
    untrusted.options.ca = fx('other-ca.pem');
    expect((await errOf(untrusted))?.type).toBe(ErrorType.InvalidCert);
    const plain = await listen(net.createServer((c) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const notTls = await errOf(peer(plain));
    expect(notTls?.type).toBe(ErrorType.TLSHandshakeFailure);
  });

  it('connectionTimeout bounds the handshake: TLSHandshakeTimedout', async () => {
    const port = await listen(net.createServer());
    const p = peer(port);
    // Long enough that a stalled event loop cannot fire it before the TCP connect is seen,
    // which would make it a ConnectTimedout.
    p.options.connectionTimeout = 500;
    const err = (await connectPeer(p).catch((e: PingoraError) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.TLSHandshakeTimedout);
    expect(err.context).toContain(`127.0.0.1:${port}`);
  });

  it('invalid client certificate material fails the connect, not the process', async () => {
    const port = await tlsOrigin('origin.test');
    const p = peer(port);
    p.clientCertKey = { cert: 'not a certificate', key: 'not a key' };
    const err = (await connectPeer(p).catch((e: PingoraError) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.TLSHandshakeFailure);
    expect(err.context).toContain('invalid TLS settings');
  });
});
