import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { compileHeaderRules } from './header-rules.js';
import { compileRewrite, rewriteUri } from './rewrite.js';
import { normalizePath, routingUri } from './routing-path.js';

describe('compileHeaderRules', () => {
  it('removes, removes by pattern (any case), sets, then appends', () => {
    const edit = compileHeaderRules({
      remove: ['x-a'],
      remove_regex: ['^x-trace-'],
      set: { 'x-b': 'new', 'x-a': 'again' },
      append: { 'x-c': '2' },
    })!;
    const resp = ResponseHeader.build(200);
    for (const [n, v] of [
      ['X-A', '1'],
      ['X-Trace-Id', 't'],
      ['x-b', 'old'],
      ['x-b', 'old2'],
      ['x-c', '1'],
      ['x-trace-span', 's'],
    ]) {
      resp.appendHeader(n!, v!);
    }
    edit(resp);
    expect(resp.rawHeaders).toEqual(['x-b', 'new', 'x-c', '1', 'x-a', 'again', 'x-c', '2']);
  });

  it('is undefined when there is nothing to do', () => {
    expect(compileHeaderRules(undefined)).toBeUndefined();
    expect(compileHeaderRules({})).toBeUndefined();
    expect(compileHeaderRules({ set: {} })).toBeUndefined();
    const req = RequestHeader.build('GET', '/');
    compileHeaderRules({ set: { host: 'h' } })!(req);
    expect(req.headers.get('host')).toBe('h');
  });
});

describe('compileRewrite', () => {
  it('strips, replaces, then adds, keeping a leading slash', () => {
    const r = compileRewrite({
      strip_prefix: '/api',
      regex: '^/v1/(.*)$',
      replacement: '/$1',
      add_prefix: '/v2/',
    })!;
    expect(r('/api/v1/users')).toBe('/v2/users');
    expect(r('/api')).toBe('/v2/');
    expect(r('/other')).toBe('/v2/other');
    expect(compileRewrite({ strip_prefix: '/api' })!('/apix')).toBe('/x');
    expect(rewriteUri('/api/a?q=/api', r)).toBe('/v2/a?q=/api');
    expect(compileRewrite(undefined)).toBeUndefined();
  });
});

describe('routingUri', () => {
  it('keeps canonical targets as they are and normalizes the rest', () => {
    const uri = '/a/b?c=../d';
    expect(routingUri(uri)).toBe(uri);
    expect(routingUri('/a/./b/../c?x=%2e')).toBe('/a/c?x=%2e');
    expect(routingUri('//a///b/')).toBe('/a/b/');
    // An encoded slash stays encoded: it is part of a segment, not a separator.
    expect(routingUri('/%41%7e%2F%2e%2e/x')).toBe('/A~%2F../x');
    expect(routingUri('/a/%2e%2e/x')).toBe('/x');
    expect(routingUri('/../../etc')).toBe('/etc');
    expect(routingUri('http://h.example/p?q')).toBe('/p?q');
    expect(routingUri('http://h.example?q')).toBe('/?q');
    expect(normalizePath('/a/b/..')).toBe('/a/');
  });
});
