import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClientHello, INCOMPLETE, INVALID, parseClientHello, peekClientHello } from './client-hello.js';

/** A wall-clock cap generous enough for a loaded machine; only a hang reaches it. */
const WAIT = { timeout: 15_000, interval: 2 };
const cleanup: Array<() => void> = [];
afterEach(() => {
  while (cleanup.length > 0) cleanup.pop()!();
});

async function serverPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  const server = await accepted;
  server.on('error', () => {});
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { client, server };
}

/** The first flight of a real node TLS client with these options. */
async function captureHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const { client, server } = await serverPair();
  const bytes = new Promise<Buffer>((r) => server.once('data', r));
  const t = tls.connect({ socket: client, rejectUnauthorized: false, ...options });
  t.on('error', () => {});
  cleanup.push(() => t.destroy());
  return bytes;
}

/** Re-frames one handshake record as two records split at `at` bytes of its payload. */
function splitRecord(rec: Buffer, at: number): Buffer {
  const body = rec.subarray(5, 5 + rec.readUInt16BE(3));
  const head = (n: number) => Buffer.from([22, 3, 1, n >> 8, n & 0xff]);
  return Buffer.concat([head(at), body.subarray(0, at), head(body.length - at), body.subarray(at)]);
}

describe('parseClientHello', () => {
  it('reads ALPN and SNI from a real node ClientHello', async () => {
    const hello = await captureHello({ servername: 'a.test', ALPNProtocols: ['h2', 'http/1.1'] });
    expect(parseClientHello(hello)).toEqual({ alpn: ['h2', 'http/1.1'], servername: 'a.test' });
  });

  it('no ALPN extension and no SNI', async () => {
    const hello = await captureHello({});
    expect(parseClientHello(hello)).toEqual({ alpn: undefined, servername: undefined });
  });

  it('every proper prefix is incomplete; a hello split over two records parses', async () => {
    const hello = await captureHello({ servername: 'b.test', ALPNProtocols: ['http/1.0'] });
    for (let n = 0; n < hello.length; n += 7) expect(parseClientHello(hello.subarray(0, n))).toBe(INCOMPLETE);
    for (const at of [1, 3, 4, 50, 100]) {
      expect(parseClientHello(splitRecord(hello, at))).toEqual({ alpn: ['http/1.0'], servername: 'b.test' });
    }
  });

  it('rejects what is not a TLS ClientHello', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe(INVALID);
    expect(parseClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0]))).toBe(INVALID); // ServerHello
    expect(parseClientHello(Buffer.from([22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3]))).toBe(INVALID); // truncated body
    expect(parseClientHello(Buffer.from([0x80, 0x2e, 1, 3, 1]))).toBe(INVALID); // SSLv2-style hello
  });
});

describe('peekClientHello', () => {
  it('waits for a hello sent in pieces, then puts every byte back on the socket', async () => {
    const hello = await captureHello({ servername: 'a.test', ALPNProtocols: ['h2'] });
    const { client, server } = await serverPair();
    let seen: ClientHello | undefined | null = null;
    peekClientHello(server, (h) => {
      seen = h;
    });
    client.write(hello.subarray(0, 40));
    // vi.waitFor, not test-utils' waitFor: this package does not depend on test-utils.
    await vi.waitFor(() => expect(server.bytesRead).toBe(40), WAIT);
    expect(server.bytesRead).toBe(40);
    expect(seen).toBeNull();
    client.write(hello.subarray(40));
    await vi.waitFor(() => expect(seen).not.toBeNull(), WAIT);
    expect(seen).toEqual({ alpn: ['h2'], servername: 'a.test' });
    expect(server.read()).toEqual(hello);
  });

  it('reports undefined for non-TLS bytes and when the client goes away', async () => {
    const a = await serverPair();
    const first = new Promise<ClientHello | undefined>((r) => peekClientHello(a.server, r));
    a.client.write('GET / HTTP/1.1\r\n\r\n');
    expect(await first).toBeUndefined();
    expect(a.server.read().toString()).toBe('GET / HTTP/1.1\r\n\r\n');
    const b = await serverPair();
    const second = new Promise<ClientHello | undefined>((r) => peekClientHello(b.server, r));
    b.client.end(Buffer.from([22, 3, 1]));
    expect(await second).toBeUndefined();
  });
});
