import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { closeAll, onClose, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, runBackground, startClusterProxy } from './test-support.js';

afterEach(closeAll);

const FIXTURES = fileURLToPath(new URL('../../../tls-openssl/test/fixtures/', import.meta.url));

describe('backends found by name', () => {
  it('dns: every address of localhost becomes a backend once the background service resolved it', async () => {
    const origin = await startOrigin((_req, res) => res.end('found'));
    const cluster = buildApp({ dns: { name: 'localhost', port: origin.port, refresh: '1s' } });
    expect(cluster.background).toBe(cluster.loadBalancer);
    const backends = () =>
      cluster.loadBalancer
        .backends()
        .getBackends()
        .map((b) => b.addr);
    expect(backends()).toEqual([]);
    runBackground(cluster);
    await waitFor(() => backends().length > 0, { message: 'localhost to be resolved' });
    expect(backends()).toContain(`127.0.0.1:${origin.port}`);
    const b = cluster.loadBalancer.backends().getBackends()[0]!;
    expect(cluster.discovery.hostOf(b)).toBe('localhost');
    const url = await startClusterProxy(cluster);
    // With ::1 among the addresses and nothing listening there, the retry goes to 127.0.0.1.
    for (let i = 0; i < 4; i++) expect((await request(`${url}/`)).body).toBe('found');
  });

  it('before the first resolution a request connects by name', async () => {
    const origin = await startOrigin((_req, res) => res.end('by name'));
    const cluster = buildApp({ backends: [`localhost:${origin.port}`] });
    const ctx = { route: undefined, tried: [] as string[], release: undefined };
    expect(String(cluster.select({} as never, ctx))).toBe(`addr: localhost:${origin.port}, scheme: HTTP,`);
    const url = await startClusterProxy(cluster);
    expect((await request(`${url}/`)).body).toBe('by name');
  });

  it('a TLS cluster of a named backend sends that name as SNI', async () => {
    const server = https.createServer(
      {
        cert: readFileSync(join(FIXTURES, 'localhost.pem')),
        key: readFileSync(join(FIXTURES, 'localhost.key')),
      },
      (req, res) => res.end(`sni=${(req.socket as TLSSocket).servername}`),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onClose(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const cluster = buildApp({ backends: [`localhost:${port}`], tls: { ca: 'ca.pem' } }, FIXTURES);
    runBackground(cluster);
    await waitFor(() => cluster.loadBalancer.backends().getBackends().length > 0, {
      message: 'localhost to be resolved',
    });
    const url = await startClusterProxy(cluster);
    expect((await request(`${url}/`)).body).toBe('sni=localhost');
  });
});
