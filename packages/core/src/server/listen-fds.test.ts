import { fstatSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ListenFds } from './listen-fds.js';

describe('ListenFds.closeUnclaimed', () => {
  it('closes what was inherited and not claimed, and keeps what was claimed or bound here', () => {
    const fds = new ListenFds();
    const kept = openSync('/dev/null', 'r');
    const dropped = openSync('/dev/null', 'r');
    const bound = openSync('/dev/null', 'r');
    fds.adopt([
      ['127.0.0.1:8080', kept],
      ['127.0.0.1:9090', dropped],
    ]);
    expect(fds.claim('127.0.0.1:8080')).toBe(kept);
    fds.add('127.0.0.1:7070', bound);

    expect(fds.closeUnclaimed()).toEqual(['127.0.0.1:9090']);
    expect(() => fstatSync(dropped)).toThrow(/EBADF/);
    expect(fstatSync(kept).isCharacterDevice()).toBe(true);
    expect(fstatSync(bound).isCharacterDevice()).toBe(true);
    expect(fds.entries().map(([k]) => k)).toEqual(['127.0.0.1:8080', '127.0.0.1:7070']);
    expect(fds.closeUnclaimed()).toEqual([]);
  });
});
