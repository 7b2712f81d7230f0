import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectClient, fixture, fixturePath, startAcceptor } from '../test/helpers.js';
import { INTERMEDIATE_PROFILE, INTERMEDIATE_TLS12_CIPHERS, TLS13_CIPHERSUITES } from './profile.js';
import { secureContextOptions, tlsServerOptions, tlsSocketOptions } from './server-options.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, TlsSettings } from './settings.js';

afterEach(closeAll);
const dir = mkdtempSync(join(tmpdir(), 'pingora-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TlsSettings', () => {
  it('intermediate() reads the files and builds the Mozilla intermediate profile', () => {
    const s = TlsSettings.intermediate(fixturePath('localhost.pem'), fixturePath('localhost.key'));
    expect(s.alpn).toBeUndefined();
    expect(s.verifyMode).toBe('none');
    expect(s.handshakeTimeout).toBe(DEFAULT_HANDSHAKE_TIMEOUT_MS);
    const o = secureContextOptions(s, s.certKey);
    expect(o).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ecdhCurve: 'X25519:prime256v1:secp384r1',
    });
    expect(o.ciphers?.split(':')).toEqual([...TLS13_CIPHERSUITES, ...INTERMEDIATE_TLS12_CIPHERS]);
    expect(INTERMEDIATE_TLS12_CIPHERS.every((c) => /^(ECDHE|DHE)-/.test(c) && /GCM|CHACHA20/.test(c))).toBe(
      true,
    );
    expect(o.ticketKeys?.length).toBe(48);
    expect(Object.isFrozen(INTERMEDIATE_PROFILE)).toBe(true);
  });

  it('reports unreadable files and invalid PEM as typed errors', () => {
    let missing: PingoraError | undefined;
    try {
      TlsSettings.intermediate(join(dir, 'nope.pem'), fixturePath('localhost.key'));
    } catch (e) {
      missing = e as PingoraError;
    }
    expect(missing?.type).toBe(ErrorType.FileReadError);
    expect(missing?.context).toContain('nope.pem');
    expect(() => TlsSettings.fromPem('not a certificate', fixture('localhost.key'))).toThrow(PingoraError);
    expect(() => TlsSettings.fromPem(fixture('localhost.pem'), fixture('a.test.key'))).toThrow(/invalid TLS/);
  });

  it('enableH2 / setAlpn / setVerify / setHandshakeTimeout are chainable and bump the generation', () => {
    const s = TlsSettings.fromPem(fixture('localhost.pem'), fixture('localhost.key'));
    const g = s.generation;
    expect(s.enableH2().alpn).toBe('h2h1');
    expect(s.setAlpn('h1').setVerify('require').setHandshakeTimeout(5_000).alpn).toBe('h1');
    expect(s.generation).toBeGreaterThan(g);
    expect(s.handshakeTimeout).toBe(5_000);
    const o = tlsSocketOptions(s);
    expect(o).toMatchObject({
      isServer: true,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
    expect(tlsSocketOptions(s)).toBe(o); // cached
    expect(tlsSocketOptions(s, false).ALPNProtocols).toBeUndefined();
    s.setVerify('peer');
    expect(tlsSocketOptions(s)).toMatchObject({ requestCert: true, rejectUnauthorized: false });
  });

  it('a bad context option is refused and the previous profile stays', async () => {
    const s = TlsSettings.fromPem(fixture('localhost.pem'), fixture('localhost.key'));
    expect(() => s.setContextOptions({ ciphers: 'NO-SUCH-CIPHER' })).toThrow(/invalid TLS/);
    expect(s.contextOptions).toEqual({});
    const a = await startAcceptor(s);
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('hello');
  });

  it('reload() re-reads the files; a failed reload keeps the current certificate', async () => {
    const cert = join(dir, 'site.pem');
    const key = join(dir, 'site.key');
    copyFileSync(fixturePath('a.test.pem'), cert);
    copyFileSync(fixturePath('a.test.key'), key);
    const s = TlsSettings.intermediate(cert, key);
    const a = await startAcceptor(s);
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.O).toBe('pingora-ts test');
    copyFileSync(fixturePath('a.test-v2.pem'), cert);
    await expect(s.reload()).rejects.toThrow(/invalid TLS/); // new cert, old key: mismatch
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.O).toBe('pingora-ts test');
    copyFileSync(fixturePath('a.test-v2.key'), key);
    await s.reload();
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.O).toBe(
      'pingora-ts test v2',
    );
    await expect(TlsSettings.fromPem(fixture('a.test.pem'), fixture('a.test.key')).reload()).rejects.toThrow(
      /not created from files/,
    );
  });

  it('tlsServerOptions() configures a plain node https server the same way', async () => {
    const s = TlsSettings.fromPem(fixture('localhost.pem'), fixture('localhost.key')).setVerify('require');
    s.setCa(fixture('ca.pem'));
    const server = https.createServer(tlsServerOptions(s), (req, res) => {
      const cert = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(`hi ${cert.subject.CN}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            ca: fixture('ca.pem'),
            cert: fixture('client.pem'),
            key: fixture('client.key'),
            agent: false,
          },
          (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          },
        )
        .on('error', reject);
    });
    expect(body).toBe('hi client-1');
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
