import { describe, expect, it } from 'vitest';
import { ErrorType } from './error-type.js';
import { isPingoraError, PingoraError } from './error.js';
import { errContext, okOrErr, orFail } from './helpers.js';

describe('Display (reference §5 vectors)', () => {
  it('HTTPStatus with a cause', () => {
    const e = PingoraError.new(ErrorType.HTTPStatus(400)).setCause(PingoraError.new(ErrorType.InternalError));
    expect(e.toString()).toBe(' HTTPStatus cause:  InternalError');
  });

  it('because(HTTPStatus(400), "test", InternalError)', () => {
    const e = PingoraError.because(
      ErrorType.HTTPStatus(400),
      'test',
      PingoraError.new(ErrorType.InternalError),
    );
    expect(e.toString()).toBe(' HTTPStatus context: test cause:  InternalError');
  });

  it('setContext', () => {
    const e = PingoraError.new(ErrorType.InternalError).setContext('my context');
    expect(e.toString()).toBe(' InternalError context: my context');
  });

  it('errContext wraps', () => {
    expect(() =>
      errContext(
        () => {
          throw PingoraError.new(ErrorType.InternalError);
        },
        () => 'another',
      ),
    ).toThrow(expect.objectContaining({ message: 'InternalError context: another cause:' }));
    try {
      errContext(
        () => {
          throw PingoraError.new(ErrorType.InternalError);
        },
        () => 'another',
      );
    } catch (e) {
      expect(String(e)).toBe(' InternalError context: another cause: ');
    }
  });

  it('None.or_err', () => {
    let caught: unknown;
    try {
      okOrErr(undefined, ErrorType.InternalError, 'none is an error!');
    } catch (e) {
      caught = e;
    }
    expect(String(caught)).toBe(' InternalError context: none is an error!');
  });

  it('Err("oops").or_fail()', () => {
    let caught: unknown;
    try {
      orFail(() => {
        throw new Error('oops');
      });
    } catch (e) {
      caught = e;
    }
    expect(String(caught)).toBe(' InternalError context:  cause: oops');
  });

  it('repeats source and type only when they change', () => {
    const inner = PingoraError.newUp(ErrorType.ReadTimedout);
    const outer = PingoraError.because(ErrorType.ReadTimedout, 'peer a', inner).asUp();
    expect(outer.toString()).toBe('Upstream ReadTimedout context: peer a cause: ');
    const mixed = PingoraError.because(ErrorType.HTTPStatus(502), 'x', inner).asDown();
    expect(mixed.toString()).toBe('Downstream HTTPStatus context: x cause: Upstream ReadTimedout');
  });

  it('message is the trimmed chain and the stack header uses it', () => {
    const e = PingoraError.explain(ErrorType.ConnectRefused, '127.0.0.1:1').asUp();
    expect(e.message).toBe('Upstream ConnectRefused context: 127.0.0.1:1');
    expect(e.stack?.split('\n')[0]).toContain('ConnectRefused');
  });
});

describe('fields and methods', () => {
  it('inherits retry from a PingoraError cause, else false', () => {
    const cause = PingoraError.new(ErrorType.ConnectError).setRetry(true);
    expect(PingoraError.because(ErrorType.InternalError, 'c', cause).retry()).toBe(true);
    expect(PingoraError.because(ErrorType.InternalError, 'c', new Error('x')).retry()).toBe(false);
    expect(PingoraError.new(ErrorType.InternalError).retryType).toBe(false);
  });

  it('ReusedOnly is undecided and answers false', () => {
    const e = PingoraError.newUp(ErrorType.ConnectionClosed).setRetry('ReusedOnly');
    expect(e.retryType).toBe('ReusedOnly');
    expect(e.retry()).toBe(false);
  });

  it('moreContext keeps type, source and retry', () => {
    const e = PingoraError.newUp(ErrorType.ReadError).setRetry('ReusedOnly');
    const w = e.moreContext('Peer: 1.2.3.4:80');
    expect(w.type).toBe(ErrorType.ReadError);
    expect(w.source).toBe('Upstream');
    expect(w.retryType).toBe('ReusedOnly');
    expect(w.cause).toBe(e);
  });

  it('rootType and rootCause walk the chain', () => {
    const io = new Error('ECONNRESET');
    const a = PingoraError.because(ErrorType.ReadError, 'a', io);
    const b = PingoraError.because(ErrorType.HTTPStatus(502), 'b', a);
    expect(b.rootType()).toBe(ErrorType.ReadError);
    expect(b.rootCause()).toBe(io);
    const c = PingoraError.because(ErrorType.InternalError, 'c', PingoraError.new(ErrorType.BindError));
    expect(c.rootType()).toBe(ErrorType.BindError);
    expect((c.rootCause() as PingoraError).type).toBe(ErrorType.BindError);
  });

  it('asUp/asDown/asIn set the source', () => {
    const e = PingoraError.new(ErrorType.ReadError);
    expect(e.asDown().source).toBe('Downstream');
    expect(e.asIn().source).toBe('Internal');
    expect(e.asUp().source).toBe('Upstream');
    expect(PingoraError.newDown(ErrorType.ReadError).source).toBe('Downstream');
    expect(PingoraError.newIn(ErrorType.ReadError).source).toBe('Internal');
  });

  it('newStr makes a Custom type', () => {
    const e = PingoraError.newStr('my failure');
    expect(e.type.kind).toBe('Custom');
    expect(e.toString()).toBe(' my failure');
  });
});

describe('identity', () => {
  it('isPingoraError and instanceof accept a copy from another package instance', () => {
    // Simulates a second copy of the package: a different class with the same global brand.
    const foreign = Object.create({ [Symbol.for('pingora-ts.error')]: true });
    expect(isPingoraError(foreign)).toBe(true);
    expect(foreign instanceof PingoraError).toBe(true);
    expect(isPingoraError(new Error('x'))).toBe(false);
    expect(new Error('x') instanceof PingoraError).toBe(false);
    expect(isPingoraError(null)).toBe(false);
  });

  it('subclasses keep prototype-based instanceof', () => {
    class Elapsed extends PingoraError {}
    const plain = PingoraError.new(ErrorType.ReadTimedout);
    expect(plain instanceof Elapsed).toBe(false);
    expect(new Elapsed(ErrorType.ReadTimedout) instanceof Elapsed).toBe(true);
    expect(new Elapsed(ErrorType.ReadTimedout) instanceof PingoraError).toBe(true);
  });

  it('code is the type code', () => {
    expect(PingoraError.new(ErrorType.TLSHandshakeTimedout).code).toBe('PGR_ERR_TLS_HANDSHAKE_TIMEDOUT');
  });
});
