import http2 from 'node:http2';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectClient, fixture, fixturePath, startAcceptor } from '../test/helpers.js';
import { getSslDigest } from './digest.js';
import { acceptTls } from './handshake.js';
import { TlsSettings } from './settings.js';

afterEach(closeAll);

const localhost = () => TlsSettings.intermediate(fixturePath('localhost.pem'), fixturePath('localhost.key'));

describe('acceptTls: basic handshake and profile', () => {
  it('completes TLS 1.3 with the default certificate and records the digest', async () => {
    const a = await startAcceptor(localhost());
    const r = await connectClient(a.port, { servername: 'localhost' });
    expect(r.error).toBeUndefined();
    expect(r.data).toBe('hello');
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.cert?.subject.CN).toBe('localhost');
    expect(r.alpn).toBe(false);
    const d = getSslDigest(a.secured[0]);
    expect(d).toMatchObject({ version: 'TLSv1.3', servername: 'localhost', alpn: undefined, resumed: false });
    expect(d?.cipher).toMatch(/^TLS_/);
    expect(d?.clientCert).toBeUndefined();
    expect(d?.certDigest.length).toBe(0);
  });

  it('offers only the intermediate profile: TLS 1.2 ECDHE-GCM yes, TLS 1.1 and CBC ciphers no', async () => {
    const a = await startAcceptor(localhost());
    const v12 = await connectClient(a.port, { servername: 'localhost', maxVersion: 'TLSv1.2' });
    expect(v12.protocol).toBe('TLSv1.2');
    expect(getSslDigest(a.secured[0])?.cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    const cbc = await connectClient(a.port, {
      servername: 'localhost',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA256',
    });
    expect(cbc.error).toBeDefined();
    const v11 = await connectClient(a.port, {
      servername: 'localhost',
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    expect(v11.error).toBeDefined();
    expect(a.errors.length).toBe(2);
    expect(a.errors.every((e) => e.type === ErrorType.TLSHandshakeFailure && e.source === 'Downstream')).toBe(
      true,
    );
  });

  it('serves a certificate chain (leaf + intermediate) that verifies against the root only', async () => {
    const s = TlsSettings.intermediate(
      fixturePath('chain.test.fullchain.pem'),
      fixturePath('chain.test.key'),
    );
    const a = await startAcceptor(s);
    const r = await connectClient(a.port, { servername: 'chain.test' });
    expect(r.error).toBeUndefined();
    expect(r.cert?.issuer.CN).toBe('pingora-ts Test Intermediate CA');
  });

  it('a client speaking plain HTTP to the TLS port fails only its own handshake', async () => {
    const a = await startAcceptor(localhost());
    const c = net.connect(a.port, '127.0.0.1');
    c.on('error', () => {});
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => c.on('close', r));
    expect(a.errors[0]?.type).toBe(ErrorType.TLSHandshakeFailure);
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('hello');
  });

  it('abort() ends a handshake that never starts and reports the given error', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    client.on('error', () => {});
    const raw = await accepted;
    const settings = localhost().enableH2(); // reads the ClientHello first
    const outcome = new Promise<[PingoraError | undefined, tls.TLSSocket | undefined]>((r) => {
      const hs = acceptTls(raw, settings, (e, s) => r([e, s]));
      hs.abort(PingoraError.explain(ErrorType.TLSHandshakeTimedout, 'test timeout').asDown());
    });
    const [err, sock] = await outcome;
    expect(err?.type).toBe(ErrorType.TLSHandshakeTimedout);
    expect(sock).toBeUndefined();
    await new Promise((r) => client.on('close', r));
    server.close();
  });
});

describe('acceptTls: ALPN with Pingora server-side rules', () => {
  const cases: Array<
    [string, 'h1' | 'h2' | 'h2h1' | undefined, string[] | undefined, string | false | 'alert']
  > = [
    ['no ALPN configured: never answers', undefined, ['h2', 'http/1.1'], false],
    ['h1 picks http/1.1', 'h1', ['h2', 'http/1.1'], 'http/1.1'],
    ['h1 with only h2 offered: no ALPN (NOACK)', 'h1', ['h2'], false],
    ['h2h1 prefers h2 whatever the client order', 'h2h1', ['http/1.1', 'h2'], 'h2'],
    ['h2h1 falls back to http/1.1', 'h2h1', ['http/1.1'], 'http/1.1'],
    ['h2h1 with unknown protocols only: NOACK (HTTP/1.0 clients)', 'h2h1', ['http/1.0'], false],
    ['h2h1 with no ALPN extension', 'h2h1', undefined, false],
    ['h2 only picks h2', 'h2', ['http/1.1', 'h2'], 'h2'],
    ['h2 only with no h2 offered: fatal alert', 'h2', ['http/1.1'], 'alert'],
  ];
  for (const [name, mode, offered, expected] of cases) {
    it(name, async () => {
      const s = localhost().setAlpn(mode);
      const a = await startAcceptor(s);
      const r = await connectClient(a.port, {
        servername: 'localhost',
        ...(offered === undefined ? {} : { ALPNProtocols: offered }),
      });
      if (expected === 'alert') {
        expect(r.error?.code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
        expect(a.errors[0]?.type).toBe(ErrorType.TLSHandshakeFailure);
        return;
      }
      expect(r.error).toBeUndefined();
      expect(r.data).toBe('hello');
      expect(r.alpn).toBe(expected);
      expect(a.secured[0]?.alpnProtocol).toBe(expected);
      expect(getSslDigest(a.secured[0])?.alpn).toBe(expected === false ? undefined : expected);
    });
  }
});

describe('acceptTls: the secured socket works with node servers', () => {
  it('an h2 ALPN connection can be handed to a node:http2 server', async () => {
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(`h2 ${headers[':path']}`);
    });
    const a = await startAcceptor(localhost().enableH2(), (s) => h2.emit('connection', s));
    const session = http2.connect(`https://localhost:${a.port}`, {
      ca: fixture('ca.pem'),
      host: '127.0.0.1',
      servername: 'localhost',
    });
    session.on('error', () => {});
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': path });
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => resolve(body));
        req.on('error', reject);
        req.end();
      });
    expect(await Promise.all([get('/a'), get('/b')])).toEqual(['h2 /a', 'h2 /b']);
    expect(getSslDigest(a.secured[0])?.alpn).toBe('h2');
    session.destroy();
  });
});

describe('acceptTls: certificates by SNI', () => {
  it('an async callback picks per name, returned contexts are reused, no SNI gets the default', async () => {
    const calls: string[] = [];
    const cache = new Map<string, tls.SecureContext>();
    const settings: TlsSettings = TlsSettings.withCallbacks({
      async certificateCallback(name) {
        calls.push(name);
        await new Promise((r) => setImmediate(r));
        if (name !== 'a.test' && name !== 'b.test') return undefined;
        let ctx = cache.get(name);
        if (ctx === undefined) {
          ctx = settings.createSecureContext({ cert: fixture(`${name}.pem`), key: fixture(`${name}.key`) });
          cache.set(name, ctx);
        }
        return ctx;
      },
    }).setCertificate({ cert: fixture('localhost.pem'), key: fixture('localhost.key') });
    const a = await startAcceptor(settings);
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.CN).toBe('a.test');
    expect((await connectClient(a.port, { servername: 'b.test' })).cert?.subject.CN).toBe('b.test');
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.CN).toBe('a.test');
    expect(
      (await connectClient(a.port, { servername: 'other.test', rejectUnauthorized: false })).cert?.subject.CN,
    ).toBe('localhost');
    // No SNI at all (an IP address as the host): the callback is not consulted.
    expect((await connectClient(a.port, { servername: '' })).cert?.subject.CN).toBe('localhost');
    expect(calls).toEqual(['a.test', 'b.test', 'a.test', 'other.test']);
    expect(cache.size).toBe(2);
    expect(getSslDigest(a.secured[0])?.servername).toBe('a.test');
  });

  it('a returned CertKey becomes a context once per object; a failing callback fails that handshake only', async () => {
    const ck = { cert: fixture('a.test.pem'), key: fixture('a.test.key') };
    const settings = TlsSettings.withCallbacks({
      certificateCallback(name) {
        if (name === 'boom.test') throw new Error('no certificate store');
        if (name === 'reject.test') return Promise.reject(new Error('lookup failed'));
        return ck;
      },
    });
    const a = await startAcceptor(settings);
    expect((await connectClient(a.port, { servername: 'a.test' })).data).toBe('hello');
    const ctx = settings.contextFor(ck);
    expect(settings.contextFor(ck)).toBe(ctx);
    expect((await connectClient(a.port, { servername: 'boom.test' })).error).toBeDefined();
    expect((await connectClient(a.port, { servername: 'reject.test' })).error).toBeDefined();
    expect(a.errors.map((e) => e.type)).toEqual([
      ErrorType.TLSHandshakeFailure,
      ErrorType.TLSHandshakeFailure,
    ]);
    expect(String(a.errors[0]?.cause)).toContain('no certificate store');
    expect((await connectClient(a.port, { servername: 'a.test' })).data).toBe('hello');
  });
});

describe('acceptTls: certificate reload', () => {
  it('new handshakes get the new certificate, an open connection keeps working', async () => {
    const s = TlsSettings.fromPem(fixture('a.test.pem'), fixture('a.test.key'));
    const a = await startAcceptor(s, (sock) => {
      sock.write('hello');
      sock.on('data', (d) => sock.write(`echo:${d}`));
    });
    const before = await connectClient(a.port, { servername: 'a.test' });
    expect(before.cert?.subject.O).toBe('pingora-ts test');
    s.setCertificate({ cert: fixture('a.test-v2.pem'), key: fixture('a.test-v2.key') });
    const after = await connectClient(a.port, { servername: 'a.test' });
    expect(after.cert?.subject.O).toBe('pingora-ts test v2');
    const echoed = new Promise<string>((r) => before.socket.once('data', (d) => r(d.toString())));
    before.socket.write('still here');
    expect(await echoed).toBe('echo:still here');
    expect(before.socket.getPeerCertificate().subject.O).toBe('pingora-ts test');
  });

  it('an invalid new certificate is refused and the old one stays in use', async () => {
    const s = TlsSettings.fromPem(fixture('a.test.pem'), fixture('a.test.key'));
    expect(() => s.setCertificate({ cert: fixture('a.test.pem'), key: fixture('b.test.key') })).toThrow(
      /invalid TLS certificate/,
    );
    const a = await startAcceptor(s);
    expect((await connectClient(a.port, { servername: 'a.test' })).cert?.subject.CN).toBe('a.test');
  });

  it('session tickets survive a reload (same ticket keys)', async () => {
    const s = TlsSettings.fromPem(fixture('a.test.pem'), fixture('a.test.key')).setContextOptions({
      maxVersion: 'TLSv1.2',
    });
    const a = await startAcceptor(s);
    const first = await connectClient(a.port, { servername: 'a.test' });
    const session = first.socket.getSession();
    expect(session).toBeDefined();
    s.setCertificate({ cert: fixture('a.test.pem'), key: fixture('a.test.key') });
    const second = await connectClient(a.port, { servername: 'a.test', session });
    expect(second.socket.isSessionReused()).toBe(true);
    expect(getSslDigest(a.secured[1])?.resumed).toBe(true);
  });
});

describe('acceptTls: mutual TLS', () => {
  const client = { cert: fixture('client.pem'), key: fixture('client.key') };
  const rogue = { cert: fixture('rogue-client.pem'), key: fixture('rogue-client.key') };
  const mtls = (mode: 'peer' | 'require') => localhost().setVerify(mode).setCa(fixture('ca.pem'));

  it('require: a client without a certificate is refused, one with a valid certificate gets in', async () => {
    const a = await startAcceptor(mtls('require'));
    const none = await connectClient(a.port, { servername: 'localhost' });
    expect(none.data).toBe('');
    expect(none.error?.code).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET/);
    const ok = await connectClient(a.port, { servername: 'localhost', ...client });
    expect(ok.data).toBe('hello');
    const d = getSslDigest(a.secured[0])!;
    expect(d.clientCert?.subject.CN).toBe('client-1');
    expect(d.clientCertVerified).toBe(true);
    expect(d.organization).toBe('pingora-ts test clients');
    expect(d.serialNumber).toBe(d.clientCert?.serialNumber);
    expect(d.certDigest.toString('hex').toUpperCase()).toBe(d.clientCert?.fingerprint256.replaceAll(':', ''));
    expect(a.secured[0]?.authorized).toBe(true);
  });

  it('require: a certificate from an untrusted CA is refused with InvalidCert', async () => {
    const a = await startAcceptor(mtls('require'));
    const r = await connectClient(a.port, { servername: 'localhost', ...rogue });
    expect(r.data).toBe('');
    expect(a.secured).toEqual([]);
    expect(a.errors[0]?.type).toBe(ErrorType.InvalidCert);
    expect(a.errors[0]?.context).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('peer: no certificate is fine, an invalid one is refused, a valid one is verified', async () => {
    const a = await startAcceptor(mtls('peer'));
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('hello');
    expect(getSslDigest(a.secured[0])).toMatchObject({ clientCert: undefined, clientCertVerified: false });
    expect((await connectClient(a.port, { servername: 'localhost', ...rogue })).data).toBe('');
    expect(a.errors[0]?.type).toBe(ErrorType.InvalidCert);
    expect((await connectClient(a.port, { servername: 'localhost', ...client })).data).toBe('hello');
    expect(getSslDigest(a.secured[1])?.clientCertVerified).toBe(true);
  });
});

describe('acceptTls: handshakeCompleteCallback', () => {
  it('its value (sync or async) becomes the digest extension', async () => {
    const settings = TlsSettings.withCallbacks({
      async handshakeCompleteCallback(sock) {
        await new Promise((r) => setImmediate(r));
        return { sni: sock.servername, at: 'complete' };
      },
    }).setCertificate({ cert: fixture('localhost.pem'), key: fixture('localhost.key') });
    const a = await startAcceptor(settings);
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('hello');
    expect(getSslDigest(a.secured[0])?.extension).toEqual({ sni: 'localhost', at: 'complete' });
  });

  it('a throwing callback closes that connection only', async () => {
    let n = 0;
    const settings = TlsSettings.withCallbacks({
      handshakeCompleteCallback() {
        if (n++ === 0) throw new Error('tenant unknown');
        return 'ok';
      },
    }).setCertificate({ cert: fixture('localhost.pem'), key: fixture('localhost.key') });
    const a = await startAcceptor(settings);
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('');
    expect(a.errors[0]?.context).toContain('handshakeCompleteCallback failed');
    expect((await connectClient(a.port, { servername: 'localhost' })).data).toBe('hello');
    expect(getSslDigest(a.secured[0])?.extension).toBe('ok');
  });
});
