import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HopByHopInfo } from './hop-by-hop.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';
import { requestHeadToWire } from './wire.js';

// The bytes a client sends: mixed-case duplicates, a latin1 value, hop-by-hop fields.
const REQUEST =
  'GET /items/1.json?x=1 HTTP/1.1\r\n' +
  'Host: 127.0.0.1\r\n' +
  'X-Foo: 1\r\n' +
  'x-foo: 2\r\n' +
  'X-FOO: 3\r\n' +
  'X-Latin: caf\u00e9\r\n' +
  'Keep-Alive: timeout=1\r\n' +
  'X-Hop: drop-me\r\n' +
  'Connection: close, X-Hop\r\n' +
  '\r\n';

interface Seen {
  before: string[];
  wireBefore: string;
  req: RequestHeader;
  info: HopByHopInfo;
}

function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(Buffer.from(request, 'latin1'));
  });
}

describe('with node:http on a real socket', () => {
  let server: http.Server | undefined;

  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    server = undefined;
  });

  it('round-trips rawHeaders and writeHead(status, rawHeaders) delivers exactly our fields', async () => {
    const seen: Seen[] = [];
    server = http.createServer((msg, res) => {
      const req = RequestHeader.fromRaw(msg.method!, msg.url!, msg.rawHeaders, msg.httpVersion);
      const before = req.rawHeaders.slice();
      const wireBefore = requestHeadToWire(req).toString('latin1');
      const info = req.stripHopByHop();
      seen.push({ before, wireBefore, req, info });

      // biome-ignore format: one name/value pair per line
      const resp = ResponseHeader.fromRaw(200, [
        'X-Dup', 'a',
        'Content-Type', 'text/plain',
        'x-dup', 'b',
        'Connection', 'keep-alive, X-Internal',
        'X-Internal', 'secret',
        'Keep-Alive', 'timeout=9',
        'Transfer-Encoding', 'chunked',
        'SET-COOKIE', 'a=1',
        'set-cookie', 'b=2',
        'X-Latin', 'na\u00efve',
      ]);
      resp.stripHopByHop();
      resp.setContentLength(2);
      res.sendDate = false;
      res.writeHead(resp.status, resp.rawHeaders);
      // A Buffer body: with a string body Node would encode the head with the body's encoding.
      res.end(Buffer.from('ok'));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const response = await rawExchange(port, REQUEST);

    // Node adds only its own Connection: close (the client asked for close); everything else is
    // ours, in our order and spelling, duplicates kept, hop-by-hop fields gone.
    expect(response).toBe(
      'HTTP/1.1 200 OK\r\n' +
        'X-Dup: a\r\n' +
        'Content-Type: text/plain\r\n' +
        'x-dup: b\r\n' +
        'SET-COOKIE: a=1\r\n' +
        'set-cookie: b=2\r\n' +
        'X-Latin: na\u00efve\r\n' +
        'Content-Length: 2\r\n' +
        'Connection: close\r\n' +
        '\r\n' +
        'ok',
    );

    expect(seen).toHaveLength(1);
    const { before, wireBefore, req, info } = seen[0]!;
    // biome-ignore format: one name/value pair per line
    expect(before).toEqual([
      'Host', '127.0.0.1',
      'X-Foo', '1',
      'x-foo', '2',
      'X-FOO', '3',
      'X-Latin', 'caf\u00e9',
      'Keep-Alive', 'timeout=1',
      'X-Hop', 'drop-me',
      'Connection', 'close, X-Hop',
    ]);
    // The head we would forward is the head we received, byte for byte.
    expect(wireBefore).toBe(REQUEST);
    expect(req.headers.getAll('X-FOO')).toEqual(['1', '2', '3']);
    expect(req.uriFileExtension()).toBe('json');
    expect(info.close).toBe(true);
    expect(info.removed).toBe(3);
    expect(requestHeadToWire(req).toString('latin1')).toBe(
      'GET /items/1.json?x=1 HTTP/1.1\r\n' +
        'Host: 127.0.0.1\r\n' +
        'X-Foo: 1\r\n' +
        'x-foo: 2\r\n' +
        'X-FOO: 3\r\n' +
        'X-Latin: caf\u00e9\r\n' +
        '\r\n',
    );
  });

  it('forwards a WebSocket upgrade request with Upgrade and a rebuilt Connection', async () => {
    let forwarded = '';
    server = http.createServer();
    server.on('upgrade', (msg: http.IncomingMessage, socket: net.Socket) => {
      const req = RequestHeader.fromRaw(msg.method!, msg.url!, msg.rawHeaders, msg.httpVersion);
      const info = req.stripHopByHop({ keepUpgrade: true });
      forwarded = requestHeadToWire(req).toString('latin1');
      const resp = ResponseHeader.build(101);
      resp.appendHeader('Upgrade', info.upgradeProtocol ?? '');
      resp.appendHeader('Connection', 'Upgrade');
      socket.end(`HTTP/1.1 101 Switching Protocols\r\n${resp.toH1Wire().toString('latin1')}\r\n`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const response = await rawExchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nKeep-Alive: 5\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n',
    );
    expect(response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(forwarded).toBe(
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n',
    );
  });
});
