import { describe, expect, it } from 'vitest';
import * as header from './header-name.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';
import {
  requestHeadString,
  requestHeadToWire,
  responseHeadString,
  responseHeadToWire,
  titledHeaderName,
} from './wire.js';

const text = (b: Buffer) => b.toString('latin1');

describe('titledHeaderName', () => {
  it("title-cases exactly Pingora's twelve names", () => {
    const list = [
      'Accept-Ranges',
      'Age',
      'Cache-Control',
      'Connection',
      'Content-Type',
      'Content-Encoding',
      'Content-Length',
      'Date',
      'Transfer-Encoding',
      'Host',
      'Server',
      'Set-Cookie',
    ];
    for (const t of list) expect(titledHeaderName(t.toLowerCase())).toBe(t);
    for (const other of ['etag', 'x-request-id', 'vary', 'location', 'accept']) {
      expect(titledHeaderName(other)).toBe(other);
    }
  });

  it('agrees with the header constants: titled constants are exactly the list', () => {
    for (const value of Object.values(header)) {
      const lower = value.toLowerCase();
      expect(value).toBe(titledHeaderName(lower));
    }
    expect(header.CONTENT_LENGTH).toBe('Content-Length');
    expect(header.ETAG).toBe('etag');
    expect(Object.keys(header)).toHaveLength(81);
  });
});

describe('requestHeadToWire', () => {
  it('writes the request line, the fields in order and the blank line', () => {
    const req = RequestHeader.fromRaw('GET', '/a?b=1', ['Host', 'example.com', 'X-Dup', '1', 'x-dup', '2']);
    expect(text(requestHeadToWire(req))).toBe(
      'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n',
    );
  });

  it('writes absolute-form and non-UTF-8 targets byte for byte', () => {
    const req = RequestHeader.build('GET', Buffer.from([0x2f, 0xff, 0x80]));
    req.setVersion('1.0');
    expect([...requestHeadToWire(req)]).toEqual([...Buffer.from('GET /\xff\x80 HTTP/1.0\r\n\r\n', 'latin1')]);
    const abs = RequestHeader.build('GET', 'http://h.example/x');
    expect(text(requestHeadToWire(abs))).toBe('GET http://h.example/x HTTP/1.1\r\n\r\n');
  });

  it('writes latin1 values as single bytes', () => {
    const req = RequestHeader.fromRaw('GET', '/', ['X-V', 'caf\u00e9']);
    const bytes = requestHeadToWire(req);
    expect(bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]))).toBe(true);
  });

  it('title-cases no-case headers', () => {
    const req = RequestHeader.buildNoCase('POST', '/');
    req.appendHeader('HOST', 'h');
    req.appendHeader('Content-Length', '3');
    req.appendHeader('X-Custom', 'c');
    expect(text(requestHeadToWire(req))).toBe(
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nx-custom: c\r\n\r\n',
    );
  });

  it('refuses HTTP/2 and HTTP/3', () => {
    const req = RequestHeader.build('GET', '/');
    req.setVersion('2');
    expect(() => requestHeadToWire(req)).toThrowError(/HTTP\/2 cannot be written as an HTTP\/1 head/);
  });
});

describe('responseHeadToWire', () => {
  it('writes canonical and custom reason phrases', () => {
    const r = ResponseHeader.build(200);
    r.setContentLength(2);
    expect(text(responseHeadToWire(r))).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
    // The cached status line must not leak into a later custom phrase.
    r.setReasonPhrase('Very OK');
    expect(text(responseHeadToWire(r))).toBe('HTTP/1.1 200 Very OK\r\nContent-Length: 2\r\n\r\n');
    r.setReasonPhrase(undefined);
    r.setVersion('1.0');
    expect(text(responseHeadToWire(r))).toBe('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n');
  });

  it('writes an empty reason for a status without one, as Pingora does', () => {
    expect(text(responseHeadToWire(ResponseHeader.build(599)))).toBe('HTTP/1.1 599 \r\n\r\n');
    expect(text(responseHeadToWire(ResponseHeader.fromRaw(200, [], '')))).toBe('HTTP/1.1 200 \r\n\r\n');
  });

  it('refuses HTTP/2', () => {
    const r = ResponseHeader.build(200);
    r.setVersion('2');
    expect(() => responseHeadToWire(r)).toThrowError(/cannot be written/);
  });

  it('toH1Wire is the header lines alone', () => {
    const r = ResponseHeader.fromRaw(204, ['Date', 'x', 'Server', 'y']);
    expect(text(r.toH1Wire())).toBe('Date: x\r\nServer: y\r\n');
    expect(r.toH1Wire().length).toBe(0 + 'Date: x\r\nServer: y\r\n'.length);
    expect(ResponseHeader.build(200).toH1Wire().length).toBe(0);
  });
});

describe('string forms', () => {
  it('are the same bytes as the Buffer forms, for socket.write(s, "latin1")', () => {
    const req = RequestHeader.fromRaw('GET', '/\xff', ['Host', 'h', 'X-V', 'caf\u00e9']);
    expect(Buffer.from(requestHeadString(req), 'latin1').equals(requestHeadToWire(req))).toBe(true);
    const resp = ResponseHeader.fromRaw(418, ['X', '\u00ff'], 'Short and stout');
    expect(responseHeadString(resp)).toBe('HTTP/1.1 418 Short and stout\r\nX: \u00ff\r\n\r\n');
    expect(Buffer.from(responseHeadString(resp), 'latin1').equals(responseHeadToWire(resp))).toBe(true);
  });
});
