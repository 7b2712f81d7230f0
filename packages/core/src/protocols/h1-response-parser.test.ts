import { describe, expect, it } from 'vitest';
import { H1ResponseParser, type ParsedResponseHead, type ResponseParserSink } from './h1-response-parser.js';

interface Events {
  heads: ParsedResponseHead[];
  info: number[];
  body: string;
  trailers: string[][];
  complete: Array<string | undefined>;
}

function parser(limits = {}): [H1ResponseParser, Events] {
  const ev: Events = { heads: [], info: [], body: '', trailers: [], complete: [] };
  const sink: ResponseParserSink = {
    onInformational: (h) => ev.info.push(h.status),
    onHead: (h) => ev.heads.push(h),
    onBody: (c) => (ev.body += c.toString('latin1')),
    onTrailers: (t) => ev.trailers.push(t),
    onComplete: (rest) => ev.complete.push(rest?.toString('latin1')),
  };
  return [new H1ResponseParser(sink, limits), ev];
}

// Feeds `text` one byte at a time, and whole, and checks both give the same events.
function feed(text: string, headRequest = false): Events {
  const [p1, whole] = parser();
  p1.reset(headRequest);
  p1.execute(Buffer.from(text, 'latin1'));
  const [p2, bytewise] = parser();
  p2.reset(headRequest);
  for (let i = 0; i < text.length; i++) p2.execute(Buffer.from(text[i]!, 'latin1'));
  expect(bytewise.body).toBe(whole.body);
  expect(bytewise.complete.length).toBe(whole.complete.length);
  expect(bytewise.heads.map((h) => h.rawHeaders)).toEqual(whole.heads.map((h) => h.rawHeaders));
  return whole;
}

describe('H1ResponseParser', () => {
  it('parses a Content-Length response, keeping header case and order', () => {
    const ev = feed('HTTP/1.1 200 OK\r\nX-B: 1\r\ncontent-LENGTH: 5\r\nX-A:  padded \r\n\r\nhello');
    expect(ev.heads[0]).toMatchObject({
      status: 200,
      reason: 'OK',
      minorVersion: 1,
      framing: 'length',
      contentLength: 5,
      keepAlive: true,
      rawHeaders: ['X-B', '1', 'content-LENGTH', '5', 'X-A', 'padded'],
    });
    expect(ev.body).toBe('hello');
    expect(ev.complete).toEqual([undefined]);
  });

  it('de-chunks bodies with extensions and collects trailers', () => {
    const ev = feed(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n',
    );
    expect(ev.heads[0]!.framing).toBe('chunked');
    expect(ev.body).toBe('abc0123456789');
    expect(ev.trailers).toEqual([['X-T', '1', 'X-U', '2']]);
    expect(ev.complete).toEqual([undefined]);
  });

  it('reads until close for HTTP/1.0 or unframed responses and is then not reusable', () => {
    const [p, ev] = parser();
    p.reset(false);
    p.execute(Buffer.from('HTTP/1.0 200 OK\r\n\r\nsome body'));
    expect(ev.heads[0]).toMatchObject({ framing: 'close', keepAlive: false });
    expect(ev.complete).toEqual([]);
    p.eof();
    expect(ev.body).toBe('some body');
    expect(ev.complete).toEqual([undefined]);
  });

  it('HTTP/1.0 keep-alive with Content-Length is reusable; Connection: close is not', () => {
    expect(
      feed('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').heads[0]!.keepAlive,
    ).toBe(true);
    expect(
      feed('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').heads[0]!.keepAlive,
    ).toBe(false);
  });

  it('HEAD responses, 204 and 304 have no body whatever the headers say', () => {
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', true).complete).toEqual([undefined]);
    expect(feed('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n').heads[0]!.framing).toBe('none');
    expect(feed('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n').complete).toEqual([
      undefined,
    ]);
  });

  it('passes 1xx informational responses and continues with the final one', () => {
    const ev = feed(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
    );
    expect(ev.info).toEqual([100, 103]);
    expect(ev.heads.map((h) => h.status)).toEqual([200]);
    expect(ev.body).toBe('x');
  });

  it('101 completes at the head and hands over the bytes that follow', () => {
    const [p, ev] = parser();
    p.reset(false);
    p.execute(
      Buffer.from(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi',
        'latin1',
      ),
    );
    expect(ev.heads[0]!.upgrade).toBe(true);
    expect(ev.complete).toEqual(['\x81\x02hi']);
  });

  it('reports bytes after a complete response (the caller then drops the connection)', () => {
    const [p, ev] = parser();
    p.reset(false);
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA'));
    expect(ev.body).toBe('x');
    expect(ev.complete).toEqual(['EXTRA']);
  });

  it('TE and CL together: TE wins and the connection is not reused', () => {
    const ev = feed(
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n',
    );
    expect(ev.heads[0]).toMatchObject({ framing: 'chunked', keepAlive: false });
    expect(ev.body).toBe('a');
  });

  it('identical duplicate Content-Length values are accepted', () => {
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nab').body).toBe('ab');
  });

  it.each([
    ['bad status line', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['short status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['no colon', 'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n'],
    ['space before colon', 'HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n'],
    ['folded line', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\n\r\n'],
    ['bare LF inside', 'HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n'],
    ['NUL in value', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n'],
    ['missing CRLF after chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc'],
    ['chunk size overflow', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n'],
  ])('rejects %s with an upstream H1Error', (_name, text) => {
    const [p] = parser();
    p.reset(false);
    let err: unknown;
    try {
      p.execute(Buffer.from(text, 'latin1'));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ source: 'Upstream' });
    expect(String((err as Error).message)).toMatch(/H1Error/);
  });

  it('enforces the head size and header count limits', () => {
    const [p] = parser({ maxHeadBytes: 64, maxHeaders: 2 });
    p.reset(false);
    expect(() => p.execute(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`))).toThrow(/too large/);
    const [q] = parser({ maxHeaders: 2 });
    q.reset(false);
    expect(() => q.execute(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'))).toThrow(
      /too many/,
    );
  });

  it('EOF before any byte is ConnectionClosed retryable on reuse; mid-response it is not', () => {
    const [p] = parser();
    p.reset(false);
    let e1: unknown;
    try {
      p.eof();
    } catch (e) {
      e1 = e;
    }
    expect(e1).toMatchObject({ retryType: 'ReusedOnly' });
    const [q] = parser();
    q.reset(false);
    q.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'));
    let e2: unknown;
    try {
      q.eof();
    } catch (e) {
      e2 = e;
    }
    expect(e2).toMatchObject({ retryType: false });
    expect(String(e2)).toContain('ConnectionClosed');
  });

  it('refuses data with no request outstanding', () => {
    const [p] = parser();
    expect(() => p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toThrow(/no request outstanding/);
  });

  it.each([
    ['XYZ\r\n'],
    ['XYZ'],
    ['HTTP/2 200\r\n'],
    ['HTTP/1.1 200 OK\n'],
    ['HTTP/1.1 20'.concat('x')],
    ['HTTP/1.1 200 OK\rX\r\n'],
    ['HTTP/1.1 200\r\n'.replace('200', '2000')],
  ])('refuses a bad status line %j before the head is complete', (start) => {
    const [p, ev] = parser();
    p.reset(false);
    expect(() => p.execute(Buffer.from(start, 'latin1'))).toThrow(/status line/);
    expect(ev.heads).toHaveLength(0);
  });

  it('waits for the rest of a head whose status line is valid so far', () => {
    for (const start of [
      'H',
      'HTTP/1.',
      'HTTP/1.1 2',
      'HTTP/1.1 200',
      'HTTP/1.1 200\r\n',
      'HTTP/1.1 204 No\r\nA: b\r\n',
    ]) {
      const [p, ev] = parser();
      p.reset(false);
      p.execute(Buffer.from(start, 'latin1'));
      expect(ev.heads).toHaveLength(0);
      expect(p.busy).toBe(true);
    }
  });
});
