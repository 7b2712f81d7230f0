import { describe, expect, it } from 'vitest';
import { ALPN, ALPN_PROTOCOLS, selectAlpn } from './alpn.js';

describe('ALPN', () => {
  it('wire lists in preference order', () => {
    expect(ALPN_PROTOCOLS[ALPN.H1]).toEqual(['http/1.1']);
    expect(ALPN_PROTOCOLS[ALPN.H2]).toEqual(['h2']);
    expect(ALPN_PROTOCOLS[ALPN.H2H1]).toEqual(['h2', 'http/1.1']);
  });

  it('selectAlpn follows Pingora: server preference, NOACK for h1/h2h1, fatal for h2', () => {
    expect(selectAlpn('h2h1', ['http/1.1', 'h2'])).toEqual({ protocol: 'h2' });
    expect(selectAlpn('h2h1', ['http/1.1'])).toEqual({ protocol: 'http/1.1' });
    expect(selectAlpn('h2h1', ['spdy/3', 'http/1.0'])).toEqual({ error: 'NOACK' });
    expect(selectAlpn('h1', ['h2', 'http/1.1'])).toEqual({ protocol: 'http/1.1' });
    expect(selectAlpn('h1', ['h2'])).toEqual({ error: 'NOACK' });
    expect(selectAlpn('h2', ['http/1.1', 'h2'])).toEqual({ protocol: 'h2' });
    expect(selectAlpn('h2', ['http/1.1'])).toEqual({ error: 'ALERT_FATAL' });
    expect(selectAlpn('h2', [])).toEqual({ error: 'ALERT_FATAL' });
  });
});
