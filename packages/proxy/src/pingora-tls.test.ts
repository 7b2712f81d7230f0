/**
 * Pingora's proxy integration tests for TLS peers (the `tls_*` and `mtls_*` cases of
 * pingora-proxy/tests/test_basic.rs), ported: the TLS-peer proxy of test/pingora-proxy.ts is told
 * by request headers which SNI, alternative name, verification and client certificate to use,
 * against an origin presenting `openrusty.org` (SAN `*.openrusty.org`, `cat.com`, `dog.com`).
 *
 * Already asserted elsewhere, not repeated here: a verification failure's error type and log
 * (tls.test 'wrong host name → 502 InvalidCert, unless verifyHostname is off or alternativeCn
 * matches'), another SNI not sharing a pooled connection (tls.test 'TLS upstream connections are
 * pooled per TLS settings'), a certificate chain given as a list (upstream-conf.test).
 */
import { closeAll, request } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PingoraOrigin, startPingoraOrigin } from '../test/pingora-origin.js';
import { type PingoraProxies, startPingoraProxies } from '../test/pingora-proxy.js';

let origin: PingoraOrigin;
let proxy: PingoraProxies;

beforeAll(async () => {
  origin = await startPingoraOrigin();
  proxy = await startPingoraProxies(origin);
});
afterAll(closeAll);

const get = (path: string, headers: Record<string, string>) =>
  request(`http://127.0.0.1:${proxy.https}${path}`, { headers });

const VERIFY = { verify: '1', verify_host: '1' };

describe('Pingora test_basic.rs: upstream TLS verification', () => {
  it.each([
    ['test_tls_no_verify', {}, 200],
    ['test_tls_verify_sni_not_host', { sni: 'openrusty.org', verify: '1' }, 200],
    // No SNI: nothing to match the name against. (Pingora still checks the chain; pingora-ts
    // skips verification without an SNI. Both accept this trusted certificate.)
    ['test_tls_none_verify_host', VERIFY, 200],
    ['test_tls_verify_sni_host', { sni: 'openrusty.org', ...VERIFY }, 200],
    ['test_tls_underscore_sub_sni_verify_host', { sni: 'd_g.openrusty.org', ...VERIFY }, 200],
    ['test_tls_underscore_non_sub_sni_verify_host', { sni: 'open_rusty.org', ...VERIFY }, 502],
    ['test_tls_alt_verify_host', { sni: 'open_rusty.org', alt: 'openrusty.org', ...VERIFY }, 200],
    [
      'test_tls_underscore_sub_alt_verify_host',
      { sni: 'open_rusty.org', alt: 'd_g.openrusty.org', ...VERIFY },
      200,
    ],
    [
      'test_tls_underscore_non_sub_alt_verify_host',
      { sni: 'open_rusty.org', alt: 'open_rusty.org', ...VERIFY },
      502,
    ],
  ] as const)('%s', async (_name, headers, status) => {
    const r = await get('/tls_verify', headers);
    expect(r.status).toBe(status);
    // A failed upstream handshake closes the client connection too.
    if (status === 502) expect(r.headers.connection).toBe('close');
  });
});

describe('Pingora test_basic.rs: client certificates (mutual TLS)', () => {
  const mtls = () => ({ 'x-port': String(origin.mtlsPort), sni: 'openrusty.org', ...VERIFY });

  it('test_mtls_no_client_cert: the origin answers 400, passed through', async () => {
    expect((await get('/tls_verify', mtls())).status).toBe(400);
  });

  it('test_mtls_no_intermediate_cert: a leaf without its intermediate does not verify → 400', async () => {
    expect((await get('/tls_verify', { ...mtls(), client_cert: '1' })).status).toBe(400);
  });

  it('test_mtls: leaf and intermediate → 200', async () => {
    const r = await get('/', { ...mtls(), client_cert: '1', client_intermediate: '1' });
    expect([r.status, r.body]).toEqual([200, 'hello world']);
  });
});

describe('Pingora test_basic.rs: TLS settings split the upstream pool', () => {
  /** Sends `headers` twice: the second request must ride the first one's pooled connection. */
  async function assertReuse(headers: Record<string, string>): Promise<void> {
    expect((await get('/', headers)).status).toBe(200);
    expect((await get('/', headers)).headers['x-conn-reuse']).toBe('1');
  }

  async function assertNoReuse(headers: Record<string, string>): Promise<void> {
    const r = await get('/', headers);
    expect(r.status).toBe(200);
    expect(r.headers['x-conn-reuse']).toBeUndefined();
  }

  it('test_mtls_diff_cert_no_reuse', async () => {
    const base = {
      'x-port': String(origin.mtlsPort),
      sni: 'openrusty.org',
      ...VERIFY,
      client_intermediate: '1',
    };
    await assertReuse({ ...base, client_cert: '1' });
    await assertNoReuse({ ...base, client_cert: '2' });
  });

  it('test_tls_diff_verify_no_reuse', async () => {
    await assertReuse({ sni: 'dog.openrusty.org', verify: '1' });
    await assertNoReuse({ sni: 'dog.openrusty.org', verify: '0' });
  });

  it('test_tls_diff_verify_host_no_reuse', async () => {
    await assertReuse({ sni: 'cat.openrusty.org', ...VERIFY });
    await assertNoReuse({ sni: 'cat.openrusty.org', verify: '1', verify_host: '0' });
  });

  it('test_tls_diff_alt_cnt_no_reuse', async () => {
    await assertReuse({ sni: 'openrusty.org', alt: 'cat.com', ...VERIFY });
    await assertNoReuse({ sni: 'openrusty.org', alt: 'dog.com', ...VERIFY });
  });
});
