import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpPeer } from '@pingora-ts/core';
import { onClose } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  closeAll,
  rawRequest,
  request,
  startOrigin,
  startProxy,
  startRawOrigin,
  waitFor,
} from '../test/helpers.js';

afterEach(closeAll);

describe('connections', () => {
  it('keepaliveRequestLimit closes the client connection after N requests', async () => {
    const origin = await startOrigin((_req, res) => res.end('x'));
    const p = await startProxy(
      { upstreamPeer: () => origin.peer() },
      { serverOptions: { keepaliveRequestLimit: 2 } },
    );
    const three = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(3);
    const out = await rawRequest(p.port, three);
    // The second response announces the close; the third request is never answered on this connection.
    expect(out.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(out).toMatch(/Connection: close/i);
  });

  it('proxies to an origin on a Unix domain socket', async () => {
    const path = join(tmpdir(), `pingora-ts-uds-origin-${process.pid}.sock`);
    const server = http.createServer((req, res) => res.end(`uds ${req.url}`));
    await new Promise<void>((r) => server.listen(path, r));
    onClose(() => new Promise<void>((r) => server.close(() => r())));
    const p = await startProxy({ upstreamPeer: () => HttpPeer.newUds(path, false, '') });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await request(p.url('/a'), { agent })).body).toBe('uds /a');
    expect((await request(p.url('/b'), { agent })).body).toBe('uds /b');
    agent.destroy();
    expect(p.proxy.connector.stats).toEqual({ connectionsCreated: 1, reuses: 1 });
  });

  it('an origin that resets on the upgrade request gets the client a 502, and the process lives on', async () => {
    const origin = await startRawOrigin((s) => s.on('data', () => s.resetAndDestroy()));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const upgrade =
      'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    expect(await rawRequest(p.port, upgrade)).toMatch(/^HTTP\/1\.1 502 /);
    expect(await rawRequest(p.port, upgrade)).toMatch(/^HTTP\/1\.1 502 /);
  });

  it('tunnelIdleTimeout closes a quiet WebSocket on both sides', async () => {
    const wss = new WebSocketServer({ noServer: true });
    let upstreamClosed = false;
    const origin = await startOrigin((_req, res) => res.end());
    origin.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('close', () => (upstreamClosed = true))),
    );
    const p = await startProxy({ upstreamPeer: () => origin.peer() }, { tunnelIdleTimeout: 50 });
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/`);
    ws.on('error', () => {});
    await new Promise((r) => ws.on('open', r));
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(1006); // closed under it, no close frame: the proxy dropped the tunnel
    await waitFor(() => upstreamClosed);
  });
});
