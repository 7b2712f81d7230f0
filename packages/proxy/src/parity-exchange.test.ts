/**
 * Behaviours where the exchange follows Pingora: how a response cut short by its origin ends on
 * each downstream protocol, the body of an Upgrade request, and an HTTP/2 origin that never ends
 * its stream.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { onClose, waitForEvent } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { startRawOrigin, startProxy } from '../test/helpers.js';
import { closeAllH2, h2connect, startH2cProxy, startH2Origin } from '../test/h2.js';

afterEach(closeAllH2);

const { NGHTTP2_CANCEL } = http2.constants;

// Well below the peer's read timeout (60 s) so that a proxy holding bytes until the timeout fails.
const PROMPT = 20_000;

/** Reads a request head and `bodyLength` bytes of body from a raw socket. */
function readRequest(socket: net.Socket, bodyLength: number): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || buf.length < end + 4 + bodyLength) return;
      socket.off('data', onData);
      const rest = buf.subarray(end + 4 + bodyLength);
      if (rest.length > 0) socket.unshift(rest);
      resolve({
        head: buf.subarray(0, end).toString('latin1'),
        body: buf.subarray(end + 4, end + 4 + bodyLength),
      });
    };
    socket.on('data', onData);
  });
}

/** Reads a chunked request body up to and including its last chunk (no trailers). */
function readChunkedRequest(socket: net.Socket): Promise<{ head: string; raw: string }> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      const last = buf.indexOf('\r\n0\r\n\r\n', end);
      if (end < 0 || last < 0) return;
      socket.off('data', onData);
      const stop = last + 7;
      if (stop < buf.length) socket.unshift(Buffer.from(buf.slice(stop), 'latin1'));
      resolve({ head: buf.slice(0, end), raw: buf.slice(end + 4, stop) });
    };
    socket.on('data', onData);
  });
}

/** A raw client: sends `data`, then collects what comes back. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  onClose(() => socket.destroy());
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return {
    socket,
    closed,
    get received() {
      return received;
    },
    /** Resolves once what was received contains `text`. */
    until(text: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.includes(text)) {
            socket.off('data', check);
            resolve();
          }
        };
        socket.on('data', check);
        socket.once('close', () =>
          received.includes(text) ? resolve() : reject(new Error(`closed; got ${JSON.stringify(received)}`)),
        );
        check();
      });
    },
  };
}

const UPGRADE_HEAD =
  'POST /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

describe('an origin that dies after the response head', () => {
  // The origin sends the head and part of a Content-Length body, then drops the connection once
  // the client has the partial body (so the failure is mid-body however slow the machine).
  async function dyingOrigin() {
    let clientHasPartial!: () => void;
    const partial = new Promise<void>((r) => (clientHasPartial = r));
    const origin = await startRawOrigin((s) => {
      void readRequest(s, 0).then(() => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nAAAAA');
        void partial.then(() => s.destroy());
      });
    });
    return { origin, clientHasPartial };
  }

  it('resets the downstream HTTP/2 stream with CANCEL, as Pingora does', async () => {
    const { origin, clientHasPartial } = await dyingOrigin();
    const p = await startH2cProxy({ upstreamPeer: () => origin.peer() });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/die' });
    req.on('error', () => {});
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
      clientHasPartial();
    });
    await new Promise((r) => req.on('close', r));
    expect(body).toBe('AAAAA');
    expect(req.rstCode).toBe(NGHTTP2_CANCEL);
  });

  it('aborts the downstream HTTP/1.1 connection', async () => {
    const { origin, clientHasPartial } = await dyingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(p.url('/die'), { agent: false }, resolve).on('error', reject);
    });
    let body = '';
    res.on('data', (c: Buffer) => {
      body += c.toString();
      clientHasPartial();
    });
    res.on('error', () => {});
    await new Promise((r) => res.on('close', r));
    expect(body).toBe('AAAAA');
    expect(res.complete).toBe(false);
    expect(res.socket.destroyed).toBe(true);
  });
});

describe('the body of an Upgrade request', () => {
  it('reaches an origin that reads it before switching protocols; the tunnel follows', async () => {
    const seen: Array<{ head: string; body: string }> = [];
    const origin = await startRawOrigin((s) => {
      void readRequest(s, 5).then(({ head, body }) => {
        seen.push({ head, body: body.toString() });
        s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        s.on('data', (c) => s.write(c));
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    // The body arrives in two writes, the second after the head: the proxy must take it off the
    // socket, not only from the bytes that came with the head.
    c.socket.write(`${UPGRADE_HEAD}Content-Length: 5\r\n\r\nhe`);
    c.socket.write('llo');
    await c.until('\r\n\r\n');
    expect(c.received).toMatch(/^HTTP\/1\.1 101 /);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toBe('hello');
    expect(seen[0]!.head).toMatch(/\r\nContent-Length: 5/i);
    c.socket.write('ping');
    await c.until('ping');
    expect(c.received.endsWith('\r\n\r\nping')).toBe(true);
  });

  it('bytes the client sends after the body reach the origin once, through the tunnel', async () => {
    const origin = await startRawOrigin((s) => {
      void readRequest(s, 5).then(({ body }) => {
        s.write(
          `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n[${body}]`,
        );
        s.on('data', (c) => s.write(c));
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    c.socket.write(`${UPGRADE_HEAD}Content-Length: 5\r\n\r\nhelloearly`);
    await c.until('early');
    expect(c.received.slice(c.received.indexOf('\r\n\r\n') + 4)).toBe('[hello]early');
  });

  it('a chunked body is forwarded before the 101', async () => {
    const seen: string[] = [];
    const origin = await startRawOrigin((s) => {
      void readChunkedRequest(s).then(({ head, raw }) => {
        seen.push(head, raw);
        s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        s.on('data', (c) => s.write(c));
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    c.socket.write(`${UPGRADE_HEAD}Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n`);
    await c.until('\r\n\r\n');
    expect(c.received).toMatch(/^HTTP\/1\.1 101 /);
    expect(seen[0]).toMatch(/\r\nTransfer-Encoding: chunked/i);
    // Re-chunked on the way, so compare the decoded bytes.
    expect(seen[1]!.replace(/(?:^|\r\n)[0-9a-f]+\r\n/gi, '')).toBe('hello\r\n');
    c.socket.write('ping');
    await c.until('ping');
  });

  it('a client that leaves mid-body closes the upstream connection', async () => {
    let upstream!: (s: net.Socket) => void;
    const connected = new Promise<net.Socket>((r) => (upstream = r));
    let bodySoFar = '';
    const origin = await startRawOrigin((s) => {
      s.on('data', (c: Buffer) => {
        bodySoFar += c.toString('latin1');
        if (bodySoFar.endsWith('\r\n\r\nhe')) upstream(s);
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    c.socket.write(`${UPGRADE_HEAD}Content-Length: 5\r\n\r\nhe`);
    const s = await connected;
    const closed = new Promise((r) => s.on('close', r));
    c.socket.destroy();
    await closed;
  });

  it('an origin that reads the body and answers 200 gives a normal response', async () => {
    const origin = await startRawOrigin((s) => {
      void readRequest(s, 5).then(({ body }) => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ngot ${body}`);
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    c.socket.write(`${UPGRADE_HEAD}Content-Length: 5\r\n\r\nhello`);
    await c.closed;
    expect(c.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received).toMatch(/\r\nConnection: close\r\n/i);
    expect(c.received.endsWith('\r\n\r\ngot hello')).toBe(true);
  });
});

describe('an HTTP/2 origin that sends its body but never ends the stream', () => {
  async function openEndedOrigin(withLength: boolean) {
    const origin = await startH2Origin((stream) => {
      stream.respond(withLength ? { ':status': 200, 'content-length': 5 } : { ':status': 200 });
      stream.write('hello');
    });
    const peer = origin.peer();
    peer.options.readTimeout = 60_000;
    return peer;
  }

  for (const withLength of [true, false]) {
    const label = withLength ? 'with Content-Length' : 'without a length';

    it(`streams the body at once to an HTTP/1.1 client (${label})`, async () => {
      const peer = await openEndedOrigin(withLength);
      const p = await startProxy({ upstreamPeer: () => peer });
      const req = http.get(p.url('/'), { agent: false });
      req.on('error', () => {});
      const [res] = await waitForEvent<[http.IncomingMessage]>(req, 'response', { timeout: PROMPT });
      expect(res.statusCode).toBe(200);
      const [chunk] = await waitForEvent<[Buffer]>(res, 'data', { timeout: PROMPT });
      expect(chunk.toString()).toBe('hello');
      req.destroy();
    });

    it(`streams the body at once to an HTTP/2 client (${label})`, async () => {
      const peer = await openEndedOrigin(withLength);
      const p = await startH2cProxy({ upstreamPeer: () => peer });
      const s = h2connect(`http://127.0.0.1:${p.port}`);
      const req = s.request({ ':path': '/' });
      req.on('error', () => {});
      const [chunk] = await waitForEvent<[Buffer]>(req, 'data', { timeout: PROMPT });
      expect(chunk.toString()).toBe('hello');
      req.close(NGHTTP2_CANCEL);
    });
  }
});
