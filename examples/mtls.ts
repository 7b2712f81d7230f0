/**
 * Mutual TLS on both sides of the proxy. Downstream, the TLS listener requires a client
 * certificate signed by our client CA (no certificate, or one from another CA, fails the
 * handshake); `requestFilter` reads the verified certificate from the session's TLS digest and
 * only lets the `ops` organization reach `/admin`. Upstream, the proxy authenticates itself to an
 * HTTPS origin with its own client certificate (`HttpPeer.newMtls`), verifying the origin
 * against the same CA, and passes the client's identity on in `X-Client-Subject`.
 *
 *   pnpm --filter @pingora-ts/examples mtls
 *   # curl --cacert ca.pem --cert client.pem --key client.key --resolve localhost:6197:127.0.0.1 https://localhost:6197/
 *
 * The demo uses the repository's TEST-ONLY certificates (packages/tls-openssl/test/fixtures).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { HttpPeer, Server, TlsSettings } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import type { CertKey } from '@pingora-ts/tls-openssl';
import { isMain } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';
import { TEST_CERTS } from './sni-certs.js';

const pem = (name: string) => readFileSync(join(TEST_CERTS, name));

/** Where the origin is and how the proxy talks to it. */
export interface MtlsOrigin {
  /** `ip:port` of the HTTPS origin. */
  addr: string;
  /** Name on the origin's certificate (SNI, verified). */
  sni: string;
  /** CA that signed the origin's certificate. */
  ca: Buffer;
  /** The proxy's own client certificate for the origin. */
  clientCert: CertKey;
}

/** Requires a client certificate; `/admin` only for organization `ops`; forwards the identity. */
export function mtlsProxy(origin: MtlsOrigin): ProxyHttp {
  return {
    requestFilter(session) {
      // The listener already refused clients without a valid certificate; this is authorization.
      const cert = session.downstream.digest().sslDigest?.clientCert;
      if (session.reqHeader().uri.startsWith('/admin') && cert?.subject.O !== 'ops') {
        session.respondError(403);
        return true;
      }
      return false;
    },
    upstreamPeer() {
      const peer = HttpPeer.newMtls(origin.addr, origin.sni, origin.clientCert);
      peer.options.ca = origin.ca;
      return peer;
    },
    upstreamRequestFilter(session, up) {
      const ssl = session.downstream.digest().sslDigest;
      const subject = ssl?.clientCert?.subject;
      up.insertHeader('X-Client-Subject', `CN=${subject?.CN ?? ''},O=${subject?.O ?? ''}`);
      up.insertHeader('X-Client-Cert-Sha256', ssl?.certDigest.toString('hex') ?? '');
    },
  };
}

/** The downstream TLS settings: our certificate, client certificates required and checked against `clientCa`. */
export function mtlsSettings(clientCa: Buffer): TlsSettings {
  return TlsSettings.fromPem(pem('localhost.pem'), pem('localhost.key')).setVerify('require').setCa(clientCa);
}

/** Starts the proxy on `port` in front of `origin`. */
export async function main(port: number, origin: MtlsOrigin): Promise<Running> {
  const proxy = httpProxyService(new Server(null).configuration, mtlsProxy(origin));
  proxy.addTlsWithSettings(`127.0.0.1:${port}`, undefined, mtlsSettings(pem('ca.pem')));
  return startServices([proxy]);
}

/**
 * A demo HTTPS origin that itself requires a client certificate (the proxy's), and echoes who
 * connected and which client the proxy vouched for.
 */
export async function startMtlsOrigin(): Promise<MtlsOrigin & { close(): Promise<void> }> {
  const server = https.createServer(
    {
      cert: pem('origin.test.pem'),
      key: pem('origin.test.key'),
      ca: pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const proxyCert = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          path: req.url,
          proxy: proxyCert.subject.CN,
          client: req.headers['x-client-subject'],
        }),
      );
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `127.0.0.1:${port}`,
    sni: 'origin.test',
    ca: pem('ca.pem'),
    // The demo proxy reuses the test client certificate as its own identity.
    clientCert: { cert: pem('client.pem'), key: pem('client.key') },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

if (isMain(import.meta.url)) {
  const origin = await startMtlsOrigin();
  await main(6197, origin);
  const f = (n: string) => join(TEST_CERTS, n);
  console.log('mTLS proxy on :6197. Try:');
  console.log(
    `  curl --cacert ${f('ca.pem')} --cert ${f('client.pem')} --key ${f('client.key')} --resolve localhost:6197:127.0.0.1 https://localhost:6197/`,
  );
}
