import { describe, expect, it } from 'vitest';
import { isHopByHop, stripHopByHop } from './hop-by-hop.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';

describe('isHopByHop', () => {
  it('knows the fixed set, case-insensitively', () => {
    for (const n of [
      'Connection',
      'keep-alive',
      'PROXY-CONNECTION',
      'Proxy-Authenticate',
      'proxy-authorization',
      'TE',
      'Trailer',
      'Transfer-Encoding',
      'upgrade',
    ]) {
      expect(isHopByHop(n), n).toBe(true);
    }
    for (const n of ['Host', 'Content-Length', 'Trailers', 'T', 'user-agent', 'Upgrade-Insecure-Requests']) {
      expect(isHopByHop(n), n).toBe(false);
    }
  });
});

describe('stripHopByHop', () => {
  it('removes the fixed set and keeps the rest in order', () => {
    // biome-ignore format: one name/value pair per line
    const raw = [
      'Host', 'a',
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic x',
      'Proxy-Authenticate', 'Basic',
      'TE', 'gzip',
      'Trailer', 'X-T',
      'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c',
      'Accept', '*/*',
    ];
    const info = stripHopByHop(raw);
    expect(raw).toEqual(['Host', 'a', 'Accept', '*/*']);
    expect(info).toEqual({
      close: false,
      keepAlive: true,
      upgrade: false,
      upgradeProtocol: 'h2c',
      transferEncoding: 'chunked',
      chunked: true,
      teTrailers: false,
      removed: 9,
    });
  });

  it('removes every field a Connection header names (comma lists, OWS, any case, several headers)', () => {
    // biome-ignore format: one name/value pair per line
    const raw = [
      'X-Trace', '1',
      'connection', ' close ,\tX-Trace,, x-Other ',
      'Host', 'h',
      'x-other', '2',
      'CONNECTION', 'X-Late',
      'X-Late', '3',
      'X-Kept', '4',
    ];
    const info = stripHopByHop(raw);
    expect(raw).toEqual(['Host', 'h', 'X-Kept', '4']);
    expect(info.close).toBe(true);
    expect(info.removed).toBe(5);
  });

  it('removes a field literally named close only when Connection lists close', () => {
    const withClose = ['Close', 'x', 'Connection', 'close', 'A', '1'];
    expect(stripHopByHop(withClose).removed).toBe(2);
    expect(withClose).toEqual(['A', '1']);
    const without = ['Close', 'x', 'Connection', 'keep-alive'];
    stripHopByHop(without);
    expect(without).toEqual(['Close', 'x']);
    expect(isHopByHop('close')).toBe(false);
  });

  it('never removes Host or Content-Length, even when Connection names them', () => {
    const raw = ['Host', 'h', 'Content-Length', '5', 'Connection', 'Host, content-length, X-A', 'X-A', '1'];
    stripHopByHop(raw);
    expect(raw).toEqual(['Host', 'h', 'Content-Length', '5']);
  });

  it('reports close and keep-alive from any token position', () => {
    expect(stripHopByHop(['Connection', 'Close']).close).toBe(true);
    expect(stripHopByHop(['Connection', 'foo, keep-alive']).keepAlive).toBe(true);
    const none = stripHopByHop(['Host', 'x']);
    expect([none.close, none.keepAlive, none.upgrade, none.removed]).toEqual([false, false, false, 0]);
    expect(none.transferEncoding).toBeUndefined();
  });

  it('joins several Transfer-Encoding values and decides chunked on the last coding', () => {
    const info = stripHopByHop(['Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked']);
    expect(info.transferEncoding).toBe('gzip, chunked');
    expect(info.chunked).toBe(true);
    expect(stripHopByHop(['Transfer-Encoding', 'chunked, gzip']).chunked).toBe(false);
    expect(stripHopByHop(['Transfer-Encoding', 'gzip ,  CHUNKED ']).chunked).toBe(true);
    expect(stripHopByHop(['Transfer-Encoding', 'chunkedx']).chunked).toBe(false);
  });

  describe('upgrade', () => {
    // biome-ignore format: one name/value pair per line
    const ws = () => [
      'Host', 'h',
      'Upgrade', 'websocket',
      'Connection', 'keep-alive, Upgrade',
      'Sec-WebSocket-Key', 'k',
      'Keep-Alive', '5',
    ];

    it('strips Upgrade by default and reports the upgrade', () => {
      const raw = ws();
      const info = stripHopByHop(raw);
      expect(raw).toEqual(['Host', 'h', 'Sec-WebSocket-Key', 'k']);
      expect(info.upgrade).toBe(true);
      expect(info.upgradeProtocol).toBe('websocket');
      expect(info.keepAlive).toBe(true);
    });

    it('keepUpgrade keeps Upgrade and rebuilds Connection: upgrade in place', () => {
      const raw = ws();
      const info = stripHopByHop(raw, { keepUpgrade: true });
      expect(raw).toEqual([
        'Host',
        'h',
        'Upgrade',
        'websocket',
        'Connection',
        'upgrade',
        'Sec-WebSocket-Key',
        'k',
      ]);
      expect(info.upgrade).toBe(true);
      expect(info.removed).toBe(1);
    });

    it('keepUpgrade with Connection before Upgrade', () => {
      const raw = ['connection', 'Upgrade', 'upgrade', 'websocket'];
      stripHopByHop(raw, { keepUpgrade: true });
      expect(raw).toEqual(['connection', 'upgrade', 'upgrade', 'websocket']);
    });

    it('keepUpgrade drops Upgrade when Connection does not list upgrade', () => {
      const raw = ['Upgrade', 'websocket', 'Host', 'h', 'Connection', 'keep-alive'];
      const info = stripHopByHop(raw, { keepUpgrade: true });
      expect(raw).toEqual(['Host', 'h']);
      expect(info.upgrade).toBe(false);
      expect(info.removed).toBe(2);
    });

    it('keepUpgrade drops Connection: upgrade without an Upgrade header', () => {
      const raw = ['Connection', 'upgrade', 'Host', 'h'];
      const info = stripHopByHop(raw, { keepUpgrade: true });
      expect(raw).toEqual(['Host', 'h']);
      expect(info.upgrade).toBe(false);
    });

    it('keeps only the first Connection header as the rebuilt one', () => {
      const raw = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Connection', 'keep-alive', 'X', '1'];
      stripHopByHop(raw, { keepUpgrade: true });
      expect(raw).toEqual(['Connection', 'upgrade', 'Upgrade', 'websocket', 'X', '1']);
    });
  });

  describe('TE', () => {
    it('keepTeTrailers keeps te: trailers only', () => {
      const raw = ['TE', 'gzip, trailers', 'te', 'trailers', 'X', '1'];
      const info = stripHopByHop(raw, { keepTeTrailers: true });
      expect(raw).toEqual(['TE', 'trailers', 'X', '1']);
      expect(info.teTrailers).toBe(true);
    });

    it('drops TE without trailers even with keepTeTrailers', () => {
      const raw = ['te', 'gzip', 'X', '1'];
      const info = stripHopByHop(raw, { keepTeTrailers: true });
      expect(raw).toEqual(['X', '1']);
      expect(info.teTrailers).toBe(false);
    });

    it('reports te: trailers even when stripping it', () => {
      const raw = ['te', 'Trailers'];
      expect(stripHopByHop(raw).teTrailers).toBe(true);
      expect(raw).toEqual([]);
    });
  });

  it('keepProxyAuthorization forwards Proxy-Authorization only', () => {
    const raw = ['Proxy-Authorization', 'Basic eA==', 'Proxy-Authenticate', 'Basic'];
    stripHopByHop(raw, { keepProxyAuthorization: true });
    expect(raw).toEqual(['Proxy-Authorization', 'Basic eA==']);
  });

  it('is available on the header classes', () => {
    const req = RequestHeader.fromRaw('GET', '/', ['Host', 'h', 'Connection', 'close']);
    expect(req.stripHopByHop().close).toBe(true);
    expect(req.rawHeaders).toEqual(['Host', 'h']);
    const resp = ResponseHeader.fromRaw(101, ['Upgrade', 'websocket', 'Connection', 'Upgrade']);
    expect(resp.stripHopByHop({ keepUpgrade: true }).upgrade).toBe(true);
    expect(resp.rawHeaders).toEqual(['Upgrade', 'websocket', 'Connection', 'upgrade']);
  });
});

// Differential test: the one-pass in-place implementation against an obviously correct one.
function naiveStrip(raw: readonly string[]): string[] {
  const fixed = new Set([
    'connection',
    'keep-alive',
    'proxy-connection',
    'proxy-authenticate',
    'proxy-authorization',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
  ]);
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const tok = t.trim().toLowerCase();
        if (tok !== 'host' && tok !== 'content-length') named.add(tok);
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!.toLowerCase();
    if (fixed.has(n) || named.has(n)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('stripHopByHop matches a naive implementation', () => {
  const names = [
    'Host',
    'X-A',
    'x-a',
    'X-B',
    'Connection',
    'connection',
    'Keep-Alive',
    'TE',
    'Upgrade',
    'Trailer',
  ];
  const extra = ['Transfer-Encoding', 'Proxy-Authorization', 'Content-Length', 'Accept', 'close', 'X-C'];
  const pool = [...names, ...extra];
  const tokens = ['close', 'keep-alive', 'upgrade', 'X-A', 'x-b', 'X-C', 'host', 'Content-Length', 'te', ''];

  it('on 2000 random messages', () => {
    const rand = rng(0x5eed);
    const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)]!;
    for (let iter = 0; iter < 2000; iter++) {
      const raw: string[] = [];
      const count = Math.floor(rand() * 10);
      for (let i = 0; i < count; i++) {
        const name = pick(pool);
        let value = `v${i}`;
        if (name.toLowerCase() === 'connection') {
          const k = 1 + Math.floor(rand() * 3);
          value = Array.from({ length: k }, () => (rand() < 0.5 ? ' ' : '') + pick(tokens)).join(',');
        }
        raw.push(name, value);
      }
      const expected = naiveStrip(raw);
      const input = raw.join('|');
      const actual = raw.slice();
      const info = stripHopByHop(actual);
      expect(actual, input).toEqual(expected);
      expect(info.removed, input).toBe((raw.length - expected.length) / 2);
    }
  });
});
