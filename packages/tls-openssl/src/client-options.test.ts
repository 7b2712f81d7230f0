import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../test/helpers.js';
import {
  clientSecureContext,
  isCertVerifyError,
  replaceLeftmostUnderscore,
  tlsClientOptions,
  type UpstreamTls,
} from './client-options.js';

const CA = fixture('ca.pem');
const servers: tls.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

interface Origin {
  port: number;
  seen: Array<{ servername: string | false; authorized: boolean; cn: unknown }>;
}

/** A TLS origin presenting `name`.pem; with `mtls` it asks for (and verifies) client certificates. */
async function origin(name: string, mtls = false): Promise<Origin> {
  const o: Origin = { port: 0, seen: [] };
  const server = tls.createServer(
    {
      cert: fixture(`${name}.pem`),
      key: fixture(`${name}.key`),
      ALPNProtocols: ['h2', 'http/1.1'],
      ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: CA } : {}),
    },
    (s) => {
      const cn = s.getPeerCertificate()?.subject?.CN;
      o.seen.push({
        servername: (s as tls.TLSSocket & { servername: string | false }).servername,
        authorized: s.authorized,
        cn,
      });
      s.end(`alpn=${s.alpnProtocol}`);
    },
  );
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  o.port = (server.address() as AddressInfo).port;
  return o;
}

const base = (o: Partial<UpstreamTls>): UpstreamTls => ({
  sni: 'origin.test',
  verifyCert: true,
  verifyHostname: true,
  alternativeCn: undefined,
  ca: CA,
  clientCertKey: undefined,
  alpn: 'h1',
  ...o,
});

/** Connects with the options for `peer`; resolves with the body or the error code. */
function connect(port: number, peer: UpstreamTls): Promise<{ body?: string; code?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ ...tlsClientOptions(peer), host: '127.0.0.1', port });
    let body = '';
    s.on('data', (c) => (body += c));
    s.on('end', () => resolve({ body }));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code ?? e.message }));
  });
}

describe('tlsClientOptions', () => {
  it('verifies the chain with `ca` and sends the SNI', async () => {
    const o = await origin('origin.test');
    expect(await connect(o.port, base({}))).toEqual({ body: 'alpn=http/1.1' });
    expect(o.seen[0]?.servername).toBe('origin.test');
  });

  it('without the CA the chain is refused (InvalidCert material)', async () => {
    const o = await origin('origin.test');
    const r = await connect(o.port, base({ ca: undefined }));
    expect(r.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(isCertVerifyError(r.code)).toBe(true);
  });

  it('a certificate for another name is refused unless verifyHostname is off or alternativeCn matches', async () => {
    const o = await origin('wrong.test');
    const r = await connect(o.port, base({}));
    expect(r.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(isCertVerifyError(r.code)).toBe(true);
    expect((await connect(o.port, base({ verifyHostname: false }))).body).toBe('alpn=http/1.1');
    expect((await connect(o.port, base({ alternativeCn: 'wrong.test' }))).body).toBe('alpn=http/1.1');
    expect((await connect(o.port, base({ alternativeCn: 'other.test' }))).code).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });

  it('an expired certificate is refused; verifyCert false accepts it', async () => {
    const o = await origin('expired.test');
    expect((await connect(o.port, base({ sni: 'expired.test' }))).code).toBe('CERT_HAS_EXPIRED');
    expect((await connect(o.port, base({ sni: 'expired.test', verifyCert: false }))).body).toBe(
      'alpn=http/1.1',
    );
  });

  it('an empty SNI sends no SNI and verifies nothing (nginx/Pingora behaviour)', async () => {
    const o = await origin('wrong.test');
    expect((await connect(o.port, base({ sni: '', ca: undefined }))).body).toBe('alpn=http/1.1');
    expect(o.seen[0]?.servername).toBe(false);
  });

  it('an IP address as SNI is not sent but is verified against the IP SAN', async () => {
    const o = await origin('origin.test');
    expect((await connect(o.port, base({ sni: '127.0.0.1' }))).body).toBe('alpn=http/1.1');
    expect(o.seen[0]?.servername).toBe(false);
    const w = await origin('wrong.test');
    expect((await connect(w.port, base({ sni: '127.0.0.1' }))).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('a leftmost label with underscores also matches its dashed form', async () => {
    const o = await origin('origin.test');
    expect((await connect(o.port, base({ sni: 'my_host.origin.test' }))).body).toBe('alpn=http/1.1');
    expect(replaceLeftmostUnderscore('my_host.origin.test')).toBe('my-host.origin.test');
    expect(replaceLeftmostUnderscore('a_b_c.example.com')).toBe('a-b-c.example.com');
    expect(replaceLeftmostUnderscore('my_host.com')).toBeUndefined();
    expect(replaceLeftmostUnderscore('www.my_host.com')).toBeUndefined();
    expect(replaceLeftmostUnderscore('localhost')).toBeUndefined();
  });

  it('presents a client certificate to an origin that requires one', async () => {
    const o = await origin('origin.test', true);
    const client = { cert: fixture('client.pem'), key: fixture('client.key') };
    expect((await connect(o.port, base({ clientCertKey: client }))).body).toBe('alpn=http/1.1');
    expect(o.seen[0]).toMatchObject({ authorized: true, cn: 'client-1' });
    const without = await connect(o.port, base({}));
    expect(without.body ?? '').toBe('');
  });

  it('offers ALPN per mode', async () => {
    const o = await origin('origin.test');
    expect((await connect(o.port, base({ alpn: 'h2h1' }))).body).toBe('alpn=h2');
    expect((await connect(o.port, base({ alpn: 'h2' }))).body).toBe('alpn=h2');
    expect((await connect(o.port, base({ alpn: 'h1' }))).body).toBe('alpn=http/1.1');
  });

  it('shares one secure context per CA / client certificate material', () => {
    const ck = { cert: fixture('client.pem'), key: fixture('client.key') };
    const pem = CA.toString();
    expect(clientSecureContext(CA, ck)).toBe(clientSecureContext(CA, ck));
    expect(clientSecureContext(pem, undefined)).toBe(clientSecureContext(`${pem}`, undefined));
    expect(clientSecureContext(CA, undefined)).not.toBe(clientSecureContext(CA, ck));
    expect(tlsClientOptions(base({})).secureContext).toBe(tlsClientOptions(base({})).secureContext);
  });
});
