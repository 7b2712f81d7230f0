/**
 * Each listener keeps its own HTTP settings: listeners that differ get their own proxy service
 * (one `HttpServer` each), listeners that agree share one. Run through `buildGateway` on real
 * sockets, with the metrics endpoint showing one service per group.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@pingora-ts/core';
import {
  closeAll,
  freePort,
  memoryLogger,
  onClose,
  rawRequest,
  request,
  startOrigin,
} from '@pingora-ts/test-utils';
import { afterEach, expect, it } from 'vitest';
import { startGatewayFile } from './examples-support.js';

afterEach(closeAll);

it('a strict listener and a loose one each apply their own limits; two services, one per setting', async () => {
  const origin = await startOrigin((req, res) => res.end(`ok ${req.url}`));
  const [strict, loose, alsoLoose, metrics] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const text = `listeners:
  - address: 127.0.0.1:${strict}
    max_header_size: 1KiB
    keepalive_request_limit: 1
  - 127.0.0.1:${loose}
  - 127.0.0.1:${alsoLoose}
upstreams:
  app:
    backends: [${origin.addr}]
observability:
  prometheus: { address: 127.0.0.1:${metrics} }
`;
  const dir = mkdtempSync(join(tmpdir(), 'pingora-ts-listeners-'));
  onClose(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  await startGatewayFile(text, file, memoryLogger() as unknown as Logger);

  const bigHead = { headers: { 'x-big': 'x'.repeat(2048) } };
  expect((await request(`http://127.0.0.1:${strict}/a`, bigHead)).status).toBe(431);
  for (const port of [loose, alsoLoose]) {
    const r = await request(`http://127.0.0.1:${port}/b`, bigHead);
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok /b');
  }
  // The strict listener closes after one request; the loose ones keep the connection.
  const get = 'GET /c HTTP/1.1\r\nHost: x\r\n\r\n';
  const done = { until: (d: string) => d.endsWith('ok /c') };
  expect(await rawRequest(strict, get, done)).toMatch(/\r\nConnection: close\r\n/i);
  expect(await rawRequest(loose, get, done)).toMatch(/\r\nConnection: keep-alive\r\n/i);

  const scrape = (await request(`http://127.0.0.1:${metrics}/metrics`)).body;
  const services = [...scrape.matchAll(/pingora_downstream_open_connections\{service="([^"]+)"/g)].map(
    (m) => m[1],
  );
  expect(services.sort()).toEqual(
    [
      `pingora-ts gateway 127.0.0.1:${loose}, 127.0.0.1:${alsoLoose}`,
      `pingora-ts gateway 127.0.0.1:${strict}`,
    ].sort(),
  );
});
