import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeAll, rawRequest, startOrigin, startProxy, waitFor } from '../test/helpers.js';

afterEach(closeAll);

async function wsOrigin() {
  const origin = await startOrigin((_req, res) => {
    res.writeHead(426).end('upgrade required');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: true,
    handleProtocols: (protocols) => [...protocols].at(-1) ?? false,
  });
  const serverSockets: WebSocket[] = [];
  origin.server.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      serverSockets.push(ws);
      ws.on('message', (m, binary) => ws.send(m, { binary }));
      ws.on('close', () => {});
    });
  });
  return { origin, wss, serverSockets };
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: true });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

describe('WebSocket through the proxy', () => {
  it('echoes text and binary messages, passes every subprotocol offer and extensions', async () => {
    const { origin } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const ws = await open(`ws://127.0.0.1:${p.port}/chat`, ['v1.chat', 'v2.chat']);
    expect(ws.protocol).toBe('v2.chat');
    expect(ws.extensions).toContain('permessage-deflate');
    const got: string[] = [];
    ws.on('message', (m) => got.push(m.toString()));
    ws.send('hello');
    ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => got.length === 2);
    expect(got[0]).toBe('hello');
    expect(Buffer.from(got[1]!, 'utf8').length).toBeGreaterThan(0);
    ws.close(4001, 'bye');
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(4001);
  });

  it('the origin closing with a code reaches the client with the same code and reason', async () => {
    const { origin, serverSockets } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const ws = await open(`ws://127.0.0.1:${p.port}/`);
    await waitFor(() => serverSockets.length === 1);
    const closed = new Promise<[number, string]>((r) =>
      ws.on('close', (c, reason) => r([c, reason.toString()])),
    );
    serverSockets[0]!.close(1013, 'try again later');
    expect(await closed).toEqual([1013, 'try again later']);
  });

  it('a client that vanishes closes the upstream socket (no leak)', async () => {
    const { origin, serverSockets } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const ws = await open(`ws://127.0.0.1:${p.port}/`);
    await waitFor(() => serverSockets.length === 1);
    let upstreamClosed = false;
    serverSockets[0]!.on('close', () => (upstreamClosed = true));
    ws.terminate(); // abrupt: no close frame
    await waitFor(() => upstreamClosed);
  });

  it('an upstream that vanishes closes the client socket', async () => {
    const { origin, serverSockets } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const ws = await open(`ws://127.0.0.1:${p.port}/`);
    await waitFor(() => serverSockets.length === 1);
    const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
    serverSockets[0]!.terminate();
    expect(await closed).toBe(1006);
  });

  it('an upgrade the origin refuses is answered and the connection closed', async () => {
    const { origin } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(
      p.port,
      'GET /refuse HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 403 /);
    expect(out).toMatch(/Connection: close/i);
    expect(out.endsWith('no')).toBe(true);
  });

  it('an upgrade to an unreachable origin gets 502 and the socket is closed', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const { HttpPeer } = await import('@pingora-ts/core');
    const p = await startProxy({ upstreamPeer: () => new HttpPeer(`127.0.0.1:${port}`, false, '') });
    const out = await rawRequest(
      p.port,
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 502 /);
  });

  it('many open/close cycles leave no upstream sockets behind', async () => {
    const { origin, wss } = await wsOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    for (let i = 0; i < 200; i++) {
      const ws = await open(`ws://127.0.0.1:${p.port}/`);
      if (i % 2 === 0) ws.terminate();
      else ws.close();
    }
    await waitFor(() => wss.clients.size === 0);
    await waitFor(
      async () => (await new Promise<number>((r) => origin.server.getConnections((_e, n) => r(n)))) === 0,
      { message: 'the origin to have no open connections' },
    );
  });
});
