import { describe, expect, it } from 'vitest';
import { toH2RequestHeaders, toH2ResponseHeaders } from './h2.js';
import { toH2RequestRaw, toH2ResponseRaw, toH2Trailers, withoutPseudoHeaders } from './h2-raw.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';

/** A header object (what node:http2 takes on Node 20) as sorted [name, value] pairs. */
function pairsOfObject(o: Record<string, unknown>): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(o)) {
    for (const e of Array.isArray(v) ? v : [v]) out.push([k, String(e)]);
  }
  return out.sort();
}

function pairsOfRaw(raw: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out.sort();
}

describe('HTTP/2 raw-array conversions', () => {
  it('raw request HEADERS carry the same fields as the header object', () => {
    const req = RequestHeader.build('POST', '/a?b=1');
    req.appendHeader('Host', 'example.test');
    req.appendHeader('Keep-Alive', 'timeout=5');
    req.appendHeader('TE', 'trailers, deflate');
    req.appendHeader('Transfer-Encoding', 'chunked');
    req.appendHeader('X-Two', '1');
    req.appendHeader('x-two', '2');
    req.appendHeader('Content-Length', '3');
    const raw = toH2RequestRaw(req, 'http', false)!;
    expect(raw.slice(0, 8)).toEqual([
      ':method',
      'POST',
      ':scheme',
      'http',
      ':authority',
      'example.test',
      ':path',
      '/a?b=1',
    ]);
    expect(pairsOfRaw(raw)).toEqual(pairsOfObject(toH2RequestHeaders(req, { scheme: 'http' })));
    expect(toH2RequestRaw(req, 'http', true)).not.toContain('content-length');
  });

  it('keeps te: trailers exactly when the header-object path does', () => {
    for (const te of ['trailers', 'Trailers', 'gzip, trailers', 'deflate', 'trailersx']) {
      const req = RequestHeader.build('GET', '/');
      req.appendHeader('Host', 'example.test');
      req.appendHeader('TE', te);
      const raw = toH2RequestRaw(req, 'https', false)!;
      expect(pairsOfRaw(raw), te).toEqual(pairsOfObject(toH2RequestHeaders(req)));
    }
  });

  it('falls back to the header object when raw arrays cannot express the request', () => {
    const connect = RequestHeader.build('CONNECT', 'example.test:443');
    expect(toH2RequestRaw(connect, 'https', false)).toBeUndefined();
    const absolute = RequestHeader.build('GET', 'http://example.test/x');
    expect(toH2RequestRaw(absolute, 'https', false)).toBeUndefined();
    const named = RequestHeader.build('GET', '/');
    named.appendHeader('Host', 'a');
    named.appendHeader('Connection', 'X-Private');
    expect(toH2RequestRaw(named, 'https', false)).toBeUndefined();
  });

  it('raw response HEADERS carry the same fields as the header object', () => {
    const resp = ResponseHeader.build(200);
    resp.appendHeader('Content-Type', 'application/grpc');
    resp.appendHeader('Upgrade', 'h2c');
    resp.appendHeader('Set-Cookie', 'a=1');
    resp.appendHeader('Set-Cookie', 'b=2');
    const raw = toH2ResponseRaw(resp)!;
    expect(raw.slice(0, 2)).toEqual([':status', '200']);
    expect(pairsOfRaw(raw)).toEqual(pairsOfObject(toH2ResponseHeaders(resp)));
  });

  it('trailers drop pseudo-headers and connection-specific fields, keep duplicates', () => {
    expect(
      toH2Trailers([':status', '200', 'Grpc-Status', '0', 'Connection', 'close', 'x-a', '1', 'X-A', '2']),
    ).toEqual({
      'grpc-status': '0',
      'x-a': ['1', '2'],
    });
    expect(withoutPseudoHeaders([':status', '200', 'a', '1'])).toEqual(['a', '1']);
    expect(withoutPseudoHeaders(['a', '1'])).toEqual(['a', '1']);
  });
});
