import { describe, expect, it } from 'vitest';
import { H1ResponseParser, type ParsedResponseHead } from './h1-response-parser.js';

// The head scan reads bytes with tables (no regex, no lowercased copies); these pin its edges.
function head(text: string): ParsedResponseHead {
  let got: ParsedResponseHead | undefined;
  const p = new H1ResponseParser({
    onInformational: () => {},
    onHead: (h) => (got = h),
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => {},
  });
  p.reset(false);
  p.execute(Buffer.from(text, 'latin1'));
  if (got === undefined) throw new Error('no head');
  return got;
}

const refused = (text: string) => expect(() => head(text)).toThrowError(/invalid|H1Error/);

describe('H1ResponseParser head fields', () => {
  it('recognises framing fields in any case and trims OWS around values', () => {
    const h = head('HTTP/1.1 201 Created\r\ncOnTeNt-LeNgTh:\t 3 \t\r\nCONNECTION: Close\r\n\r\nabc');
    expect(h).toMatchObject({
      status: 201,
      reason: 'Created',
      framing: 'length',
      contentLength: 3,
      keepAlive: false,
    });
    expect(h.rawHeaders).toEqual(['cOnTeNt-LeNgTh', '3', 'CONNECTION', 'Close']);
  });

  it('keeps the list form of Content-Length and refuses differing values', () => {
    expect(head('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab').contentLength).toBe(2);
    refused('HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nab');
    refused('HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab');
    refused('HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n');
  });

  it('does not mistake names of the same length for framing fields', () => {
    // 14, 17 and 10 characters, like content-length, transfer-encoding and connection.
    const h = head(
      'HTTP/1.1 200 OK\r\nContent-Lengtx: 9\r\nTransfer-Encodinx: chunked\r\nConnectiox: close\r\n\r\n',
    );
    expect(h).toMatchObject({ framing: 'close', contentLength: -1 });
    expect(h.rawHeaders).toHaveLength(6);
  });

  it('refuses a status that is not three digits, and control characters in the reason', () => {
    refused('HTTP/1.1 1e2 OK\r\n\r\n');
    refused('HTTP/1.1 099 Low\r\n\r\n');
    refused('HTTP/1.1 200 O\x01K\r\n\r\n');
    expect(head('HTTP/1.1 599 \xe9t\xe9\tok\r\nContent-Length: 0\r\n\r\n').reason).toBe('\xe9t\xe9\tok');
  });

  it('refuses space before the colon, folded lines, bare CR and a missing colon', () => {
    refused('HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A: 1\r2\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A\r\nX-B: 1\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A: \x7f\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A: 1\n2\r\n\r\n');
    refused('HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n');
  });

  it('names the offending line in the error, as the origin sent it', () => {
    expect(() => head('HTTP/1.1 200 OK\r\nX-Ok: 1\r\nX-A : 1\r\n\r\n')).toThrowError('"X-A : 1"');
    expect(() => head('HTTP/1.1 200 OK\r\nX-B: a\x01b\r\n\r\n')).toThrowError('"X-B: a\\u0001b"');
  });
});
