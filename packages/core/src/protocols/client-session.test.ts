import http2 from 'node:http2';
import net from 'node:net';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { Connector } from '../upstream/connector.js';
import { HttpPeer } from '../upstream/peer.js';
import { PeerOptions } from '../upstream/peer-options.js';
import { ClientSession } from './client-session.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function newConnector(): Connector {
  const c = new Connector();
  cleanups.push(() => c.close());
  return c;
}

/** A TCP origin that answers every request with the bytes of `answer` (or never, when undefined). */
async function rawOrigin(answer: string | undefined): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      if (!d.includes('\r\n\r\n')) return;
      requests++;
      if (answer !== undefined) s.write(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, requests: () => requests };
}

async function h2cOrigin(): Promise<number> {
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 201, 'X-Origin': 'h2' });
    stream.end('from h2');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

function get(): RequestHeader {
  const req = RequestHeader.build('GET', '/');
  req.insertHeader('Host', 'origin.test');
  return req;
}

async function readAll(s: ClientSession): Promise<string> {
  let text = '';
  for (let c = await s.readResponseBody(); c !== undefined; c = await s.readResponseBody()) text += c;
  return text;
}

describe('ClientSession response version', () => {
  it('an HTTP/2 response is version 2, no-case, with the canonical reason', async () => {
    const port = await h2cOrigin();
    const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
    peer.options.alpn = 'h2';
    const c = newConnector();
    const [conn] = await c.getHttpSession(peer);
    expect(conn.httpVersion).toBe(2);
    const s = new ClientSession(conn);
    s.writeRequestHeader(get());
    const resp = await s.readResponseHeader();
    expect(resp.version).toBe('2');
    expect(resp.status).toBe(201);
    expect(resp.hasCase()).toBe(false);
    expect(resp.headers.get('x-origin')).toBe('h2');
    expect(resp.rawHeaders).not.toContain(':status');
    expect(resp.getReasonPhrase()).toBe('Created');
    expect(await readAll(s)).toBe('from h2');
    c.releaseHttpSession(conn, peer);
  });

  it.each([
    ['HTTP/1.0', '1.0'],
    ['HTTP/1.1', '1.1'],
  ])('a %s response keeps its version, reason phrase and field case', async (wire, version) => {
    const o = await rawOrigin(`${wire} 299 Fine Thanks\r\nX-Case: yes\r\nContent-Length: 2\r\n\r\nhi`);
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    const c = newConnector();
    const [conn] = await c.getHttpSession(peer);
    const s = new ClientSession(conn);
    s.writeRequestHeader(get());
    const resp = await s.readResponseHeader();
    expect(resp.version).toBe(version);
    expect(resp.status).toBe(299);
    expect(resp.getReasonPhrase()).toBe('Fine Thanks');
    expect(resp.rawHeaders).toEqual(['X-Case', 'yes', 'Content-Length', '2']);
    expect(await readAll(s)).toBe('hi');
    c.releaseHttpSession(conn, peer);
  });
});

describe('ClientSession timeouts', () => {
  it('defaults to the PeerOptions read and write timeouts; an explicit undefined disables one', async () => {
    const o = await rawOrigin(undefined);
    const c = newConnector();
    const [conn] = await c.getHttpSession(new HttpPeer(`127.0.0.1:${o.port}`, false, ''));
    const defaults = new PeerOptions();
    expect(defaults.readTimeout).toBe(60_000);
    expect(new ClientSession(conn).timeouts).toEqual({
      readTimeout: defaults.readTimeout,
      writeTimeout: defaults.writeTimeout,
    });
    expect(new ClientSession(conn, { readTimeout: 5 }).timeouts).toEqual({
      readTimeout: 5,
      writeTimeout: 60_000,
    });
    expect(new ClientSession(conn, { readTimeout: undefined }).timeouts).toEqual({
      readTimeout: undefined,
      writeTimeout: 60_000,
    });
    conn.destroy();
  });

  it('a silent origin fails the read with ReadTimedout once the configured read timeout passes', async () => {
    const o = await rawOrigin(undefined);
    const c = newConnector();
    const [conn] = await c.getHttpSession(new HttpPeer(`127.0.0.1:${o.port}`, false, ''));
    const s = new ClientSession(conn, { readTimeout: 100 });
    const started = performance.now();
    s.writeRequestHeader(get());
    // The origin keeps the connection open and never answers: only the timeout can end this wait.
    const err = (await s.readResponseHeader().then(
      () => undefined,
      (e: unknown) => e,
    )) as PingoraError | undefined;
    expect(o.requests()).toBe(1);
    expect(err?.type).toBe(ErrorType.ReadTimedout);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });
});
