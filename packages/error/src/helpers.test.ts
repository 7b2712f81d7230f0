import { describe, expect, it } from 'vitest';
import { ErrorType } from './error-type.js';
import { PingoraError } from './error.js';
import { errContext, explainErr, okOrErr, okOrErrWith, orErr, orErrWith, orFail } from './helpers.js';

const boom = () => {
  throw new Error('boom');
};

describe('helpers', () => {
  it('orErr passes values through and wraps sync failures with the cause', () => {
    expect(orErr(() => 5, ErrorType.InternalError, 'ctx')).toBe(5);
    try {
      orErr(boom, ErrorType.FileReadError, 'reading conf');
      expect.unreachable();
    } catch (e) {
      const pe = e as PingoraError;
      expect(pe.type).toBe(ErrorType.FileReadError);
      expect(pe.context).toBe('reading conf');
      expect((pe.cause as Error).message).toBe('boom');
      expect(String(pe)).toBe(' FileReadError context: reading conf cause: boom');
    }
  });

  it('orErr handles promises and async functions', async () => {
    await expect(orErr(Promise.resolve(3), ErrorType.InternalError, 'x')).resolves.toBe(3);
    await expect(
      orErr(Promise.reject(new Error('no')), ErrorType.ConnectError, 'dial'),
    ).rejects.toMatchObject({
      type: ErrorType.ConnectError,
      context: 'dial',
    });
    await expect(
      orErr(
        async () => {
          throw new Error('late');
        },
        ErrorType.ReadError,
        'r',
      ),
    ).rejects.toBeInstanceOf(PingoraError);
  });

  it('orErrWith computes context only on failure', () => {
    let calls = 0;
    const ctx = () => {
      calls++;
      return 'c';
    };
    expect(orErrWith(() => 1, ErrorType.InternalError, ctx)).toBe(1);
    expect(calls).toBe(0);
    expect(() => orErrWith(boom, ErrorType.InternalError, ctx)).toThrow(PingoraError);
    expect(calls).toBe(1);
  });

  it('explainErr drops the cause', () => {
    try {
      explainErr(boom, ErrorType.InvalidHTTPHeader, (e) => `bad: ${(e as Error).message}`);
      expect.unreachable();
    } catch (e) {
      expect((e as PingoraError).cause).toBeUndefined();
      expect(String(e)).toBe(' InvalidHTTPHeader context: bad: boom');
    }
  });

  it('orFail uses InternalError and an empty context', async () => {
    await expect(orFail(Promise.reject('str'))).rejects.toMatchObject({
      type: ErrorType.InternalError,
      context: '',
    });
  });

  it('errContext wraps foreign failures as InternalError causes', () => {
    try {
      errContext(boom, () => 'loading');
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toBe(' InternalError context: loading cause: boom');
    }
  });

  it('okOrErr returns present values, including falsy ones', () => {
    expect(okOrErr(0, ErrorType.InternalError, 'x')).toBe(0);
    expect(okOrErr('', ErrorType.InternalError, 'x')).toBe('');
    expect(() => okOrErr(null, ErrorType.InternalError, 'missing')).toThrow(/missing/);
    expect(() => okOrErrWith(undefined, ErrorType.InternalError, () => 'lazy')).toThrow(/lazy/);
  });
});
