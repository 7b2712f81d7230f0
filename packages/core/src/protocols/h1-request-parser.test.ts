import { isPingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import {
  EXPECT_CONTINUE,
  EXPECT_NONE,
  EXPECT_OTHER,
  H1RequestError,
  H1RequestParser,
  type ParsedRequestHead,
  type RequestParserLimits,
} from './h1-request-parser.js';

interface Events {
  heads: ParsedRequestHead[];
  bodies: string[];
  chunks: Buffer[];
  trailers: string[][];
  complete: number;
}

function parser(takeOver = false, limits: Partial<RequestParserLimits> = {}): [H1RequestParser, Events] {
  const ev: Events = { heads: [], bodies: [], chunks: [], trailers: [], complete: 0 };
  const p = new H1RequestParser(
    {
      onHead: (h) => {
        ev.heads.push(h);
        ev.bodies.push('');
        return takeOver && h.upgrade;
      },
      onBody: (c) => {
        ev.chunks.push(c);
        ev.bodies[ev.bodies.length - 1] += c.toString('latin1');
      },
      onTrailers: (t) => ev.trailers.push(t),
      onComplete: () => ev.complete++,
    },
    limits,
  );
  return [p, ev];
}

// Feeds all of `buf`, re-entering after each completed request as a session would.
function drain(p: H1RequestParser, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off = p.execute(buf, off);
}

// Parses `text` whole and one byte at a time; both must give the same events.
function parse(text: string): Events {
  const [p1, whole] = parser();
  drain(p1, Buffer.from(text, 'latin1'));
  p1.eof();
  const [p2, bytewise] = parser();
  for (let i = 0; i < text.length; i++) drain(p2, Buffer.from(text[i]!, 'latin1'));
  p2.eof();
  expect(bytewise.heads).toEqual(whole.heads);
  expect(bytewise.bodies).toEqual(whole.bodies);
  expect(bytewise.trailers).toEqual(whole.trailers);
  expect(bytewise.complete).toBe(whole.complete);
  return whole;
}

function refusal(text: string, limits: Partial<RequestParserLimits> = {}): H1RequestError {
  const [p] = parser(false, limits);
  try {
    drain(p, Buffer.from(text, 'latin1'));
    p.eof();
  } catch (e) {
    expect(e).toBeInstanceOf(H1RequestError);
    return e as H1RequestError;
  }
  throw new Error(`accepted: ${JSON.stringify(text)}`);
}

describe('H1RequestParser', () => {
  it('parses a head, keeping field case and order and trimming values', () => {
    const ev = parse('GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-B:  two \t\r\nx-a:1\r\nEmpty:\r\n\r\n');
    expect(ev.heads).toEqual([
      {
        method: 'GET',
        target: '/a?b=c',
        targetForm: 'origin',
        minorVersion: 1,
        rawHeaders: ['Host', 'example.com', 'X-B', 'two', 'x-a', '1', 'Empty', ''],
        framing: 'none',
        contentLength: -1,
        keepAlive: true,
        upgrade: false,
        hasUpgradeField: false,
        expect: EXPECT_NONE,
        hostIndex: 0,
      },
    ]);
    expect(ev.complete).toBe(1);
  });

  it('hands a Content-Length body on as slices of the input buffer', () => {
    const [p, ev] = parser();
    const input = Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    expect(p.execute(input)).toBe(input.length);
    expect(ev.heads[0]).toMatchObject({ framing: 'length', contentLength: 5 });
    expect(ev.bodies).toEqual(['hello']);
    expect(ev.chunks[0]!.buffer).toBe(input.buffer);
    expect(ev.complete).toBe(1);
  });

  it('de-chunks a body with extensions and collects trailers', () => {
    const ev = parse(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;a=1;b="x y"\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\nX-U:  2 \r\n\r\n',
    );
    expect(ev.heads[0]!.framing).toBe('chunked');
    expect(ev.bodies).toEqual(['abc0123456789']);
    expect(ev.trailers).toEqual([['X-T', '1', 'X-U', '2']]);
    expect(ev.complete).toBe(1);
  });

  it('stops after each pipelined request and returns where the next one starts', () => {
    const first = 'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab';
    const second = '\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
    const third = 'GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const buf = Buffer.from(first + second + third);
    const [p, ev] = parser();
    expect(p.execute(buf)).toBe(first.length);
    expect(ev.complete).toBe(1);
    expect(p.idle).toBe(true);
    expect(p.execute(buf, first.length)).toBe(first.length + second.length);
    expect(p.execute(buf, first.length + second.length)).toBe(buf.length);
    expect(ev.heads.map((h) => [h.target, h.keepAlive])).toEqual([
      ['/1', true],
      ['/2', true],
      ['/3', false],
    ]);
    expect(p.idle).toBe(true);
    p.eof();
  });

  it('an accepted upgrade stops at its head and leaves the rest to the caller', () => {
    const head =
      'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n';
    const [p, ev] = parser(true);
    const buf = Buffer.from(`${head}\x81\x02hi`, 'latin1');
    expect(p.execute(buf)).toBe(head.length);
    expect(ev.heads[0]).toMatchObject({ upgrade: true, hasUpgradeField: true });
    expect(ev.complete).toBe(0);
    expect(() => p.execute(buf, head.length)).toThrow(/taken over/);
  });

  it('a declined upgrade (h2c offer) goes on with the body as a plain request', () => {
    const ev = parse(
      'POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 3\r\n\r\nabc',
    );
    expect(ev.heads[0]).toMatchObject({ upgrade: true, framing: 'length' });
    expect(ev.bodies).toEqual(['abc']);
  });

  it('CONNECT takes an authority-form target and is an upgrade', () => {
    const ev = parse('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(ev.heads[0]).toMatchObject({ targetForm: 'authority', upgrade: true, framing: 'none' });
  });

  it('reports Expect: 100-continue, other expectations, and none on HTTP/1.0', () => {
    const expectOf = (v: string, version = '1.1') =>
      parse(`GET / HTTP/${version}\r\nHost: a\r\nExpect: ${v}\r\n\r\n`).heads[0]!.expect;
    expect(expectOf('100-continue')).toBe(EXPECT_CONTINUE);
    expect(expectOf('100-Continue')).toBe(EXPECT_CONTINUE);
    expect(expectOf('foo')).toBe(EXPECT_OTHER);
    expect(expectOf('foo', '1.0')).toBe(EXPECT_NONE);
  });

  it('keep-alive: HTTP/1.0 needs the token, a close token always wins', () => {
    const keep = (text: string) => parse(text).heads[0]!.keepAlive;
    expect(keep('GET / HTTP/1.0\r\n\r\n')).toBe(false);
    expect(keep('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).toBe(true);
    expect(keep('GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n')).toBe(false);
    expect(keep('GET / HTTP/1.1\r\nHost: a\r\nConnection: x, CLOSE\r\n\r\n')).toBe(false);
    expect(keep('GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n')).toBe(true);
  });

  it('serves HTTP/1.2–1.9 as HTTP/1.1 and OPTIONS * / absolute-form as they are', () => {
    expect(parse('GET / HTTP/1.2\r\nHost: a\r\n\r\n').heads[0]!.minorVersion).toBe(1);
    expect(parse('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').heads[0]!.targetForm).toBe('asterisk');
    const abs = parse('GET http://a.example/x HTTP/1.0\r\n\r\n').heads[0]!;
    expect([abs.targetForm, abs.hostIndex]).toEqual(['absolute', -1]);
  });

  it.each([
    [
      'CL and TE',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n',
      'transfer-encoding',
    ],
    [
      'duplicate CL',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n',
      'content-length',
    ],
    ['CL list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n', 'content-length'],
    ['CL sign', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n', 'content-length'],
    [
      'CL overflow',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n',
      'content-length',
    ],
    [
      'TE chunked not last',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      'transfer-encoding',
    ],
    ['TE xchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 'transfer-encoding'],
    [
      'TE twice chunked',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
      'transfer-encoding',
    ],
    // llhttp does not see a coding or a length followed by HTAB: refused, not trimmed away.
    [
      'TE chunked then HTAB',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n',
      'transfer-encoding',
    ],
    ['CL then HTAB', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\t\r\n\r\n', 'content-length'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n', 'header-name'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n', 'obs-fold'],
    ['NUL in value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n', 'header-value'],
    ['bare CR in value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n', 'line-ending'],
    ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 'line-ending'],
    ['unknown method', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n', 'method'],
    ['invalid target byte', 'GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n', 'target'],
    ['GET *', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 'target-form'],
    ['CONNECT origin-form', 'CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n', 'target-form'],
    ['HTTP/0.9', 'GET /\r\n\r\n', 'http-0.9'],
    ['HTTP/1.10', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', 'version'],
    ['two Host', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n', 'host-duplicate'],
    ['no Host on 1.1', 'GET / HTTP/1.1\r\n\r\n', 'host-missing'],
    [
      'bad chunk size',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'chunk-size',
    ],
    [
      'chunk size LF only',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n',
      'line-ending',
    ],
    [
      'chunk ext NUL',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\0\r\nx\r\n',
      'chunk-extension',
    ],
    [
      'chunk data overrun',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n',
      'chunk-data',
    ],
    [
      'CL in trailers',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 1\r\n\r\n',
      'trailer',
    ],
    ['data after close', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET', 'data-after-close'],
    ['EOF mid-body', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab', 'incomplete'],
  ])('%s → 400', (_name, text, rejection) => {
    const e = refusal(text);
    expect([e.status, e.rejection]).toEqual([400, rejection]);
    expect(isPingoraError(e)).toBe(true);
    expect([e.type.status, e.source]).toEqual([400, 'Downstream']);
  });

  it('HTTP/2.0 and HTTP/3.0 request lines → 505', () => {
    expect(refusal('GET / HTTP/2.0\r\nHost: a\r\n\r\n').status).toBe(505);
    expect(refusal('GET / HTTP/3.0\r\nHost: a\r\n\r\n').status).toBe(505);
  });

  it('an oversized head → 431, before its end arrives', () => {
    const [p] = parser(false, { maxHeadBytes: 1024 });
    p.execute(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-Big: '));
    expect(() => p.execute(Buffer.alloc(2000, 0x61))).toThrow(expect.objectContaining({ status: 431 }));
    expect(
      refusal(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(2000)}\r\n\r\n`, { maxHeadBytes: 1024 }).status,
    ).toBe(431);
    expect(
      refusal(`GET / HTTP/1.1\r\nHost: a\r\n${'a: b\r\n'.repeat(5)}\r\n`, { maxHeaders: 4 }).status,
    ).toBe(431);
  });

  it('fails an incomplete head as soon as it cannot become valid', () => {
    const early = (text: string) => {
      const [p] = parser();
      expect(() => p.execute(Buffer.from(text, 'latin1'))).toThrow(H1RequestError);
    };
    early('GET / HTTP/1.1\nHost');
    early('GET / HTTP/1.1\r\nHost: a\rX');
    early('XYZ / HTTP/1.1\r\n');
    early('GET / HTTP/9.9\r\n');
  });

  it('EOF between requests is the normal end; a partial request is not', () => {
    const [p] = parser();
    p.eof();
    drain(p, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    p.eof();
    p.execute(Buffer.from('GET / HT'));
    expect(() => p.eof()).toThrow(expect.objectContaining({ rejection: 'incomplete' }));
  });
});
