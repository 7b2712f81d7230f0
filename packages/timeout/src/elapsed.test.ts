import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { Elapsed, ElapsedType, isElapsed } from './elapsed.js';

describe('Elapsed', () => {
  it("is a PingoraError of type Custom('Timeout Elapsed') with Pingora's message", () => {
    const e = new Elapsed();
    expect(e).toBeInstanceOf(Error);
    expect(e instanceof PingoraError).toBe(true);
    expect(e instanceof Elapsed).toBe(true);
    expect(isPingoraError(e)).toBe(true);
    expect(isElapsed(e)).toBe(true);
    expect(e.type.equals(ElapsedType)).toBe(true);
    expect(e.type.kind).toBe('Custom');
    expect(e.code).toBe('PGR_ERR_CUSTOM');
    expect(e.message).toBe('Timeout Elapsed');
    expect(String(e)).toBe(' Timeout Elapsed');
    expect(e.name).toBe('Elapsed');
    expect(e.source).toBe('Unset');
    expect(e.retry()).toBe(false);
  });

  it('prints a context and sits at the root of a wrapping error', () => {
    expect(String(new Elapsed('upstream 10.0.0.1:80'))).toBe(
      ' Timeout Elapsed context: upstream 10.0.0.1:80',
    );
    const wrapped = PingoraError.because(ErrorType.ReadTimedout, 'reading body', new Elapsed()).asUp();
    expect(wrapped.rootType().equals(ElapsedType)).toBe(true);
    expect(String(wrapped)).toBe('Upstream ReadTimedout context: reading body cause:  Timeout Elapsed');
  });

  it('is not confused with other errors', () => {
    const other = PingoraError.new(ErrorType.Custom('Timeout Elapsed'));
    expect(isElapsed(other)).toBe(false);
    expect(other instanceof Elapsed).toBe(false);
    expect(isElapsed(new Error('Timeout Elapsed'))).toBe(false);
    expect(isElapsed(null)).toBe(false);
  });

  it('is recognised across copies of the package through its Symbol.for brand', () => {
    // What another copy's Elapsed looks like to this one: a PingoraError carrying the shared brand.
    const foreign = PingoraError.new(ErrorType.Custom('Timeout Elapsed'));
    Object.defineProperty(foreign, Symbol.for('pingora-ts.timeout.elapsed'), { value: true });
    expect(isElapsed(foreign)).toBe(true);
    expect(foreign instanceof Elapsed).toBe(true);
  });

  it('subclasses keep prototype instanceof', () => {
    class ReadElapsed extends Elapsed {}
    expect(new ReadElapsed() instanceof ReadElapsed).toBe(true);
    expect(new Elapsed() instanceof ReadElapsed).toBe(false);
    expect(new ReadElapsed() instanceof Elapsed).toBe(true);
  });
});
