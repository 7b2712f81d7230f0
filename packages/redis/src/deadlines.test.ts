import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('fails a call that never answers after its timeout and leaves answered calls alone', async () => {
    const deadlines = new Deadlines(40);
    const start = performance.now();
    const answered = deadlines.bound(Promise.resolve('ok'));
    const failed = deadlines.bound(Promise.reject(new Error('refused')));
    const hung = deadlines.bound(new Promise<never>(() => undefined));
    expect(await answered).toBe('ok');
    await expect(failed).rejects.toThrow('refused');
    await expect(hung).rejects.toThrow('no answer within 40 ms');
    // Never early: a deadline may only fire late, by up to a tick.
    expect(performance.now() - start).toBeGreaterThanOrEqual(39);
  });

  it('expires calls in the order they started, each after its own timeout', async () => {
    const deadlines = new Deadlines(30);
    const order: number[] = [];
    const calls = [0, 1, 2].map((i) =>
      deadlines.bound(new Promise<never>(() => undefined)).catch(() => void order.push(i)),
    );
    let late: (v: string) => void = () => undefined;
    const slow = deadlines.bound(new Promise<string>((r) => (late = r)));
    late('in time');
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2]);
    expect(await slow).toBe('in time');
  });
});
