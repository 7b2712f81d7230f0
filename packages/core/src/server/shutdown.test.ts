import { describe, expect, it, vi } from 'vitest';
import { ShutdownController } from './shutdown.js';

describe('ShutdownController / ShutdownWatch', () => {
  it('starts running, then broadcasts a graceful shutdown once', async () => {
    const ctl = new ShutdownController();
    const w = ctl.watch;
    expect(w.shuttingDown).toBe(false);
    expect(w.graceful).toBe(false);
    const seen: boolean[] = [];
    w.onShutdown((g) => seen.push(g));
    expect(ctl.shutdown(true)).toBe(true);
    expect(ctl.shutdown(true)).toBe(false);
    expect(w.shuttingDown).toBe(true);
    expect(w.graceful).toBe(true);
    expect(seen).toEqual([true]);
    await expect(w.wait()).resolves.toBeUndefined();
  });

  it('escalates graceful to fast, telling listeners again; never the reverse', () => {
    const ctl = new ShutdownController();
    const seen: boolean[] = [];
    ctl.watch.onShutdown((g) => seen.push(g));
    ctl.shutdown(true);
    expect(ctl.shutdown(false)).toBe(true);
    expect(ctl.watch.graceful).toBe(false);
    expect(ctl.shutdown(true)).toBe(false);
    expect(ctl.watch.graceful).toBe(false);
    expect(seen).toEqual([true, false]);
  });

  it('stops notifying after unsubscribe', () => {
    const ctl = new ShutdownController();
    const cb = vi.fn();
    const off = ctl.watch.onShutdown(cb);
    off();
    ctl.shutdown(false);
    expect(cb).not.toHaveBeenCalled();
  });

  it('tells a late subscriber on a microtask, with the current mode', async () => {
    const ctl = new ShutdownController();
    ctl.shutdown(true);
    const cb = vi.fn();
    ctl.watch.onShutdown(cb);
    expect(cb).not.toHaveBeenCalled();
    await Promise.resolve();
    expect(cb).toHaveBeenCalledExactlyOnceWith(true);
  });

  it('does not tell a late subscriber twice when an escalation happens before its microtask', async () => {
    const ctl = new ShutdownController();
    ctl.shutdown(true);
    const seen: boolean[] = [];
    ctl.watch.onShutdown((g) => seen.push(g));
    ctl.shutdown(false);
    await Promise.resolve();
    expect(seen).toEqual([false]);
  });

  it('keeps notifying others when a listener throws, and reports the error', () => {
    const errors: unknown[] = [];
    const ctl = new ShutdownController((e) => errors.push(e));
    const after = vi.fn();
    ctl.watch.onShutdown(() => {
      throw new Error('boom');
    });
    ctl.watch.onShutdown(after);
    ctl.shutdown(true);
    expect(after).toHaveBeenCalledWith(true);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('wait() stays pending until shutdown', async () => {
    const ctl = new ShutdownController();
    let done = false;
    const p = ctl.watch.wait().then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    ctl.shutdown(false);
    await p;
    expect(done).toBe(true);
  });
});
