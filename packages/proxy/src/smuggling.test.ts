import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, rawRequest, startOrigin, startProxy, waitFor } from '../test/helpers.js';

afterEach(closeAll);

// Each vector must be refused with 400 before any byte reaches the origin.
const VECTORS: Array<[string, string]> = [
  [
    'CL and TE together',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'conflicting Content-Length',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  ],
  [
    'duplicate Content-Length (same value)',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd',
  ],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd'],
  ['non-numeric Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd'],
  ['obfuscated TE: xchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  [
    'obfuscated TE: chunked, identity',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  ],
  [
    'TE with space before colon',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'TE folded onto a continuation line',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
  ],
  ['bare LF line ending', 'GET / HTTP/1.1\nHost: a\n\n'],
  ['bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n'],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n'],
  ['space in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n'],
  ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n'],
  ['invalid method token', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n'],
];

describe('request smuggling vectors are refused', () => {
  it.each(VECTORS)('%s → 400, origin untouched, one log line', async (_name, raw) => {
    let hits = 0;
    const origin = await startOrigin((_req, res) => {
      hits++;
      res.end('ok');
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(p.port, raw);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(hits).toBe(0);
    await waitFor(() =>
      p.logs.some((l) => l.level === 'warn' && l.msg.startsWith('rejected malformed request')),
    );
  });

  it('a body that turns malformed after the head was forwarded never completes upstream', async () => {
    let started = 0;
    let completed = 0;
    const origin = await startOrigin((req, res) => {
      started++;
      req.on('error', () => {});
      req.resume();
      req.on('end', () => {
        completed++;
        res.end('ok');
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(
      p.port,
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n0\r\n\r\n',
    );
    expect(out).not.toMatch(/^HTTP\/1\.1 2/);
    expect(completed).toBe(0);
    expect(started).toBeLessThanOrEqual(1);
    await waitFor(() => p.logs.some((l) => l.level === 'warn' && /malformed/.test(l.msg)));
  });

  it('a request after a refused one on another connection still works', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    await rawRequest(p.port, VECTORS[0]![1]);
    const out = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out.endsWith('ok')).toBe(true);
  });

  it('an oversized request head → 431', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(p.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('a chunked request with a smuggled second request in its body is forwarded as one body', async () => {
    const bodies: string[] = [];
    const origin = await startOrigin((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${b}`);
        res.end('ok');
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const inner = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
    const body = `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
    await rawRequest(p.port, `POST /public HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    expect(bodies).toEqual([`POST /public ${inner}`]);
  });
});
