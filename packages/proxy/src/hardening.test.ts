import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { HttpServer, Service, ShutdownController, TlsSettings } from '@pingora-ts/core';
import { rawRequest, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeAll,
  memoryLogger,
  request,
  startOrigin,
  startProxy,
  startRawOrigin,
  waitFor,
} from '../test/helpers.js';
import { HttpProxy, type ProxyHttp } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../tls-openssl/test/fixtures');

afterEach(closeAll);

/** A raw client connection: what came back so far, and promises on the bytes and on the close. */
class RawClient {
  text = '';
  closed = false;
  private readonly socket: net.Socket;
  private waiters: Array<() => void> = [];

  constructor(port: number, secure = false) {
    this.socket = secure
      ? tls.connect({
          port,
          host: '127.0.0.1',
          servername: 'localhost',
          ca: readFileSync(join(FIXTURES, 'ca.pem')),
        })
      : net.connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => {
      this.text += c.toString('latin1');
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  send(data: string): this {
    this.socket.write(data, 'latin1');
    return this;
  }

  /** Half-closes: the server sees the end of the request stream. */
  end(): this {
    this.socket.end();
    return this;
  }

  /** Resolves once `cond` holds for the bytes received so far, or the server closed. */
  until(cond: (text: string) => boolean): Promise<string> {
    return new Promise((resolve) => {
      const check = () => {
        if (cond(this.text) || this.closed) resolve(this.text);
        else this.waiters.push(check);
      };
      check();
    });
  }

  /** Resolves with everything received once the server closed the connection. */
  untilClosed(): Promise<string> {
    return this.until(() => false);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

// A whole response with a Content-Length body has arrived `n` times.
const responses = (n: number) => (text: string) => {
  let count = 0;
  let at = 0;
  for (;;) {
    const head = text.indexOf('\r\n\r\n', at);
    if (head < 0) return count >= n;
    const len = /content-length: *(\d+)/i.exec(text.slice(at, head));
    const end = head + 4 + (len === null ? 0 : Number(len[1]));
    if (end > text.length) return count >= n;
    count++;
    at = end;
  }
};

// The version rewrite and the h2c re-parse hand the socket back to node: TLS sockets take another path there.
async function startTlsProxy<Ctx>(inner: ProxyHttp<Ctx>): Promise<number> {
  const logger = memoryLogger();
  const service = new Service('tls proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  const settings = TlsSettings.intermediate(join(FIXTURES, 'localhost.pem'), join(FIXTURES, 'localhost.key'));
  service.addTlsWithSettings('127.0.0.1:0', undefined, settings);
  return startService(service, new ShutdownController());
}

describe('request hardening', () => {
  it.each([
    ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['the same Host twice', 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n'],
    ['two Host lines on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n'],
  ])('%s → 400 before any origin traffic, with a log line', async (_name, raw) => {
    let hits = 0;
    const origin = await startOrigin((_req, res) => {
      hits++;
      res.end('ok');
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await new RawClient(p.port).send(raw).untilClosed();
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(hits).toBe(0);
    expect(origin.connections).toBe(0);
    await waitFor(() => p.logs.some((l) => l.level === 'warn' && l.msg.includes('more than one Host')));
  });

  it('HTTP/2.0 on an HTTP/1 listener → 505, origin untouched', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await new RawClient(p.port).send('GET / HTTP/2.0\r\nHost: a\r\n\r\n').untilClosed();
    expect(out).toMatch(/^HTTP\/1\.1 505 /);
    expect(origin.connections).toBe(0);
    await waitFor(() =>
      p.logs.some((l) => l.level === 'warn' && l.msg.startsWith('rejected malformed request')),
    );
  });

  it('HTTP/3.0 (refused by the parser) → 505', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await new RawClient(p.port).send('GET / HTTP/3.0\r\nHost: a\r\n\r\n').untilClosed();
    expect(out).toMatch(/^HTTP\/1\.1 505 /);
    expect(origin.connections).toBe(0);
  });

  it('HTTP/1.2 is served as HTTP/1.1, keep-alive and body included', async () => {
    const seen: string[] = [];
    const origin = await startOrigin((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.httpVersion} ${body}`);
        res.end(`ok${req.url}`);
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = new RawClient(p.port).send('POST /a HTTP/1.2\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
    const first = await c.until(responses(1));
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first.endsWith('ok/a')).toBe(true);
    c.send('GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const all = await c.untilClosed();
    expect(all.endsWith('ok/b')).toBe(true);
    expect(seen).toEqual(['POST /a 1.1 abc', 'GET /b 1.1 ']);
  });

  it('over TLS: HTTP/1.2 is served as HTTP/1.1 and an h2c offer is stripped', async () => {
    const heads: string[] = [];
    const origin = await startOrigin((req, res) => {
      heads.push(`${req.url} ${req.httpVersion} ${req.headers.upgrade ?? '-'}`);
      res.end(`ok${req.url}`);
    });
    const port = await startTlsProxy({ upstreamPeer: () => origin.peer() });
    const c = new RawClient(port, true).send('GET /a HTTP/1.2\r\nHost: a\r\n\r\n');
    expect(await c.until(responses(1))).toMatch(/^HTTP\/1\.1 200 /);
    c.send('GET /b HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n');
    const all = await c.untilClosed();
    expect(all.endsWith('ok/b')).toBe(true);
    expect(heads).toEqual(['/a 1.1 -', '/b 1.1 -']);
  });

  it('an HTTP/0.9 request line is refused without origin traffic', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await new RawClient(p.port).send('GET /\r\n\r\n').untilClosed();
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    // A client that sends the bare line and half-closes, as HTTP/0.9 clients do.
    const bare = await new RawClient(p.port).send('GET /\r\n').end().untilClosed();
    expect(bare).not.toMatch(/^HTTP\/1\.1 2/);
    expect(origin.connections).toBe(0);
  });
});

describe('h2c upgrades are never forwarded', () => {
  // An origin that switches to anything offered by Upgrade, and records every request head.
  async function upgradingOrigin() {
    const heads: string[] = [];
    const origin = await startRawOrigin((s) => {
      let buf = '';
      s.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          const head = buf.slice(0, end);
          const len = /\r\ncontent-length: *(\d+)/i.exec(head);
          const bodyLen = len === null ? 0 : Number(len[1]);
          if (buf.length < end + 4 + bodyLen) return;
          heads.push(buf.slice(0, end + 4 + bodyLen));
          buf = buf.slice(end + 4 + bodyLen);
          if (/\r\nupgrade:/i.test(head)) {
            s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
            return;
          }
          const path = head.split(' ')[1];
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${3 + path!.length}\r\n\r\nok ${path}`);
        }
      });
    });
    return { origin, heads };
  }

  it('strips Upgrade: h2c, HTTP2-Settings and their Connection tokens; the next request is seen by the phases', async () => {
    const { origin, heads } = await upgradingOrigin();
    const phased: string[] = [];
    const p = await startProxy({
      upstreamPeer: (session) => {
        phased.push(session.reqHeader().uri);
        return origin.peer();
      },
    });
    const c = new RawClient(p.port).send(
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    const first = await c.until(responses(1));
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    c.send('GET /admin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const all = await c.untilClosed();
    expect(all.endsWith('ok /admin')).toBe(true);
    expect(all).not.toContain(' 101 ');
    expect(phased).toEqual(['/', '/admin']);
    expect(heads).toHaveLength(2);
    for (const h of heads) {
      expect(h).not.toMatch(/upgrade|http2-settings/i);
    }
  });

  it('strips an h2c offer that node does not treat as an upgrade (no Connection: upgrade)', async () => {
    const { origin, heads } = await upgradingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = new RawClient(p.port).send(
      'GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: HTTP2-Settings\r\n\r\n',
    );
    const out = await c.until(responses(1));
    c.destroy();
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(heads).toHaveLength(1);
    expect(heads[0]).not.toMatch(/upgrade|http2-settings/i);
  });

  it('a POST offering h2c is proxied with its body', async () => {
    const { origin, heads } = await upgradingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await new RawClient(p.port)
      .send(
        'POST /p HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello',
      )
      .untilClosed();
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(heads).toHaveLength(1);
    expect(heads[0]).not.toMatch(/upgrade|http2-settings/i);
    expect(heads[0]!.endsWith('\r\n\r\nhello')).toBe(true);
  });
});

describe('upstream status line and default timeouts', () => {
  it.each([
    ['garbage line', 'XYZ\r\n'],
    ['garbage without a line end', 'XYZ'],
    ['bare LF after the status line', 'HTTP/1.1 200 OK\n'],
    ['HTTP/2 status line', 'HTTP/2 200\r\n'],
  ])('%s, then silence → 502 at once with default peer options', async (_name, bytes) => {
    const origin = await startRawOrigin((s) => s.once('data', () => s.write(bytes)));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const r = await request(p.url('/'));
    expect(r.status).toBe(502);
    await waitFor(() =>
      p.logs.some((l) => l.msg.includes('invalid status line') || l.msg.includes('H1Error')),
    );
  });

  it('an origin that goes silent after part of a head → 504 after the read timeout', async () => {
    const origin = await startRawOrigin((s) =>
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nX-A: b\r\n')),
    );
    const p = await startProxy({
      upstreamPeer: () => {
        const peer = origin.peer();
        peer.options.readTimeout = 100;
        return peer;
      },
    });
    const r = await request(p.url('/'));
    expect(r.status).toBe(504);
    await waitFor(() => p.logs.some((l) => l.msg.includes('ReadTimedout')));
  });

  it('the read timeout does not run out while the request body is still going up', async () => {
    // Real timers against real sockets: a byte goes up every third of the timeout, so a stall
    // of two thirds of it on a loaded machine would fire the timeout. 450 ms leaves 300 ms.
    const READ_TIMEOUT = 450;
    let received = 0;
    const gotChunk: Array<() => void> = [];
    const origin = await startOrigin((req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.length;
        gotChunk.shift()?.();
      });
      req.on('end', () => res.end(`got ${received}`));
    });
    const p = await startProxy({
      upstreamPeer: () => {
        const peer = origin.peer();
        peer.options.readTimeout = READ_TIMEOUT;
        return peer;
      },
    });
    const c = new RawClient(p.port).send(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\nConnection: close\r\n\r\n',
    );
    const start = performance.now();
    // One byte at a time, each sent once the origin has the previous one and a third of the read
    // timeout has passed: the upload outlasts the read timeout while the origin stays silent.
    for (let i = 0; i < 8; i++) {
      const arrived = new Promise<void>((r) => gotChunk.push(r));
      c.send('x');
      await arrived;
      if (i < 7) await new Promise((r) => setTimeout(r, READ_TIMEOUT / 3));
    }
    const out = await c.untilClosed();
    expect(performance.now() - start).toBeGreaterThan(READ_TIMEOUT);
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out.endsWith('got 8')).toBe(true);
  });

  it('peers have connect, read and write timeouts by default', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const o = origin.peer().options;
    expect([o.connectionTimeout, o.readTimeout, o.writeTimeout]).toEqual([60_000, 60_000, 60_000]);
  });
});

describe('absolute-form request targets', () => {
  // An origin that records `url host` for every request.
  async function recordingOrigin() {
    const seen: string[] = [];
    const origin = await startOrigin((req, res) => {
      seen.push(`${req.url} ${req.headers.host}`);
      res.end('ok');
    });
    return { origin, seen };
  }

  it('is rewritten to origin-form with Host from the authority, before any phase', async () => {
    const { origin, seen } = await recordingOrigin();
    const filtered: string[] = [];
    const p = await startProxy({
      requestFilter(session) {
        const h = session.reqHeader();
        filtered.push(`${h.uri} ${h.headers.get('host')}`);
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const out = await rawRequest(
      p.port,
      'GET http://evil.example/x?y=1 HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual(['/x?y=1 evil.example']);
    expect(filtered).toEqual(['/x?y=1 evil.example']);
  });

  it.each([
    ['http://a.example:8080/p?q=1', '/p?q=1 a.example:8080'],
    ['https://a.example/p', '/p a.example'],
    ['HTTP://a.example', '/ a.example'],
    ['http://a.example?q=1', '/?q=1 a.example'],
    ['http://[::1]:81/p', '/p [::1]:81'],
  ])('%s → origin sees %s', async (target, want) => {
    const { origin, seen } = await recordingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(
      p.port,
      `GET ${target} HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n`,
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual([want]);
  });

  it('an HTTP/1.0 absolute-form request without Host gets one', async () => {
    const { origin, seen } = await recordingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(p.port, 'GET http://a.example/p HTTP/1.0\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual(['/p a.example']);
  });

  it.each([
    ['ftp://x/', 'unsupported scheme'],
    ['http://user@x/', 'invalid authority'],
    ['http:///p', 'invalid authority'],
    ['http://x:abc/', 'invalid authority'],
  ])('%s → 400 before any origin traffic, with a log line', async (target, reason) => {
    const { origin, seen } = await recordingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(p.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen).toEqual([]);
    expect(origin.connections).toBe(0);
    await waitFor(() =>
      p.logs.some(
        (l) => l.level === 'warn' && l.msg.startsWith('rejected malformed request') && l.msg.includes(reason),
      ),
    );
  });

  it('origin-form requests are unchanged', async () => {
    const { origin, seen } = await recordingOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = new RawClient(p.port).send('GET /a?b=http://c/ HTTP/1.1\r\nHost: good.example\r\n\r\n');
    expect(await c.until(responses(1))).toMatch(/^HTTP\/1\.1 200 /);
    c.send('GET //x/y HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
    await c.untilClosed();
    expect(seen).toEqual(['/a?b=http://c/ good.example', '//x/y good.example']);
  });
});
