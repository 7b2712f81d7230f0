/**
 * A client certificate whose key is encrypted: `CertKey.passphrase` (tls-openssl's `CertKey`, the
 * one core re-exports) reaches OpenSSL, so mutual TLS to an origin works with it and fails without.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import type { CertKey } from '@pingora-ts/tls-openssl';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientSession } from '../protocols/client-session.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const PASSPHRASE = 'open sesame';
// The fixture key, encrypted here so no encrypted key has to be kept among the fixtures.
const ENCRYPTED_KEY = createPrivateKey(fx('client.key')).export({
  type: 'pkcs8',
  format: 'pem',
  cipher: 'aes-256-cbc',
  passphrase: PASSPHRASE,
}) as string;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An HTTPS origin that requires a client certificate from `ca.pem` and answers with its CN. */
async function mtlsOrigin(): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const server = https.createServer(
    {
      cert: fx('origin.test.pem'),
      key: fx('origin.test.key'),
      ca: fx('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      requests++;
      res.end(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, requests: () => requests };
}

function mtlsPeer(port: number, certKey: CertKey): HttpPeer {
  const p = HttpPeer.newMtls(`127.0.0.1:${port}`, 'origin.test', certKey);
  p.options.ca = fx('ca.pem');
  return p;
}

function newConnector(): Connector {
  const c = new Connector();
  cleanups.push(() => c.close());
  return c;
}

describe('upstream client certificate with an encrypted key', () => {
  it('authenticates with the passphrase', async () => {
    expect(ENCRYPTED_KEY).toContain('ENCRYPTED PRIVATE KEY');
    const o = await mtlsOrigin();
    const peer = mtlsPeer(o.port, { cert: fx('client.pem'), key: ENCRYPTED_KEY, passphrase: PASSPHRASE });
    const c = newConnector();
    const [conn] = await c.getHttpSession(peer);
    const s = new ClientSession(conn, peer.options);
    const req = RequestHeader.build('GET', '/');
    req.insertHeader('Host', 'origin.test');
    s.writeRequestHeader(req);
    expect((await s.readResponseHeader()).status).toBe(200);
    expect(String(await s.readResponseBody())).toBe('client-1');
    expect(await s.readResponseBody()).toBeUndefined();
    c.releaseHttpSession(conn, peer);
    expect(o.requests()).toBe(1);
  });

  it('a wrong or missing passphrase fails the connection before any request', async () => {
    const o = await mtlsOrigin();
    const c = newConnector();
    for (const passphrase of ['wrong', undefined]) {
      const certKey: CertKey = { cert: fx('client.pem'), key: ENCRYPTED_KEY };
      if (passphrase !== undefined) certKey.passphrase = passphrase;
      const e = (await c.getHttpSession(mtlsPeer(o.port, certKey)).then(
        () => undefined,
        (x: unknown) => x,
      )) as PingoraError | undefined;
      expect(e?.type).toBe(ErrorType.TLSHandshakeFailure);
      // OpenSSL 3 reports the key it could not decrypt as `bad decrypt` or, depending on what its
      // decoders tried first (and on errors left on the thread's queue), `DECODER routines::unsupported`.
      expect(String(e?.cause)).toMatch(/bad decrypt|DECODER routines::unsupported/);
    }
    expect(o.requests()).toBe(0);
  });

  it('the passphrase is part of the pool key', () => {
    const a = mtlsPeer(1, { cert: fx('client.pem'), key: ENCRYPTED_KEY, passphrase: PASSPHRASE });
    const b = mtlsPeer(1, { cert: fx('client.pem'), key: ENCRYPTED_KEY, passphrase: 'other' });
    expect(a.reuseKey()).not.toBe(b.reuseKey());
  });
});
