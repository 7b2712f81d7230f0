import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, onClose, origin, track } from './lib/testing.js';
import * as mtls from './mtls.js';
import * as sni from './sni-certs.js';

afterEach(closeAll);

const pem = (name: string) => readFileSync(join(sni.TEST_CERTS, name));
const CA = pem('ca.pem');

interface Reply {
  status: number;
  body: string;
  /** Organization on the certificate the server presented. */
  certO: unknown;
  certCN: unknown;
}

function get(port: number, servername: string, options: https.RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/', servername, ca: CA, agent: false, ...options },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body, certO: cert.subject.O, certCN: cert.subject.CN }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.method === 'POST' ? 'x' : undefined);
  });
}

describe('examples/sni-certs', () => {
  it('serves a certificate per host name and the default one without SNI', async () => {
    const o = await origin('sni');
    const dir = sni.demoCertDir();
    onClose(() => rmSync(dir, { recursive: true, force: true }));
    const r = track(await sni.main(0, dir, o.addr));
    const a = await get(r.ports[0]!, 'a.test');
    expect([a.status, a.certCN, a.body]).toEqual([200, 'a.test', 'hello from sni\n']);
    expect((await get(r.ports[0]!, 'b.test')).certCN).toBe('b.test');
    expect((await get(r.ports[0]!, '')).certCN).toBe('localhost');
    expect(r.certs.loads).toBe(2);
    expect((await get(r.ports[0]!, 'a.test')).certCN).toBe('a.test');
    expect(r.certs.loads).toBe(2); // cached
  });

  it('reloads a host certificate when its files change; an open connection keeps working', async () => {
    const o = await origin('sni');
    const dir = sni.demoCertDir();
    onClose(() => rmSync(dir, { recursive: true, force: true }));
    const r = track(await sni.main(0, dir, o.addr));
    const port = r.ports[0]!;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    onClose(() => agent.destroy());
    const before = await get(port, 'a.test', { agent });
    expect(before.certO).toBe('pingora-ts test');
    copyFileSync(join(sni.TEST_CERTS, 'a.test-v2.pem'), join(dir, 'a.test.pem'));
    copyFileSync(join(sni.TEST_CERTS, 'a.test-v2.key'), join(dir, 'a.test.key'));
    // The reload lands when the watcher fires; a new connection shows when it has.
    await waitFor(async () => (await get(port, 'a.test')).certO === 'pingora-ts test v2', {
      interval: 10,
      message: 'new connections to get the v2 certificate',
    });
    // The keep-alive connection made before the change still serves, with the old certificate.
    const again = await get(port, 'a.test', { agent });
    expect([again.status, again.certO]).toEqual([200, 'pingora-ts test']);
  });
});

describe('examples/mtls', () => {
  const client = { cert: pem('client.pem'), key: pem('client.key') };
  const ops = { cert: pem('ops-client.pem'), key: pem('ops-client.key') };

  it('forwards the verified client identity to an origin that authenticates the proxy', async () => {
    const o = await mtls.startMtlsOrigin();
    onClose(() => o.close());
    const r = track(await mtls.main(0, o));
    const res = await get(r.ports[0]!, 'localhost', client);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      path: '/',
      proxy: 'client-1',
      client: 'CN=client-1,O=pingora-ts test clients',
    });
    expect((await get(r.ports[0]!, 'localhost', { ...client, path: '/admin' })).status).toBe(403);
    expect((await get(r.ports[0]!, 'localhost', { ...ops, path: '/admin' })).status).toBe(200);
  });

  it('refuses clients without a certificate or with one from another CA', async () => {
    const o = await mtls.startMtlsOrigin();
    onClose(() => o.close());
    const r = track(await mtls.main(0, o));
    await expect(get(r.ports[0]!, 'localhost')).rejects.toThrow();
    await expect(
      get(r.ports[0]!, 'localhost', { cert: pem('rogue-client.pem'), key: pem('rogue-client.key') }),
    ).rejects.toThrow();
  });
});
