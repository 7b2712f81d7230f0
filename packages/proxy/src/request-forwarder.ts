/**
 * The request body's way upstream for one attempt: chunks from the session's body buffer, through
 * the modules' and the user's request body filters, to the upstream connection, with backpressure
 * (a full upstream pauses the client). Made only for a request that has a body.
 */
import type { HttpModuleCtx, UpstreamSession } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import { type Phases, phaseError } from './phases.js';
import type { BodyTarget } from './request-body.js';
import type { Session } from './session.js';

/** What the forwarder needs from the attempt it serves. */
export interface ForwarderOwner {
  /** The attempt is over: drop whatever still arrives. */
  readonly isSettled: boolean;
  /** The client side failed: end the attempt with `error`. */
  abortAttempt(error: PingoraError): void;
}

/** @internal */
export class RequestBodyForwarder<Ctx> implements BodyTarget {
  // Filters may be async: chunks are chained so they reach the upstream in order.
  private chain: Promise<void> | undefined = undefined;
  private readonly plain: boolean;

  constructor(
    private readonly owner: ForwarderOwner,
    private readonly phases: Phases<Ctx>,
    private readonly session: Session,
    private readonly ctx: Ctx,
    private readonly conn: UpstreamSession,
    private readonly mods: HttpModuleCtx | undefined,
  ) {
    this.plain = phases.requestBodyFilter === null && mods === undefined;
  }

  onBodyChunk(chunk: Buffer): void {
    if (this.owner.isSettled) return;
    if (this.plain) this.send(chunk);
    else this.filter(chunk, false);
  }

  onBodyEnd(rawTrailers: string[] | undefined): void {
    if (this.owner.isSettled) return;
    if (this.plain) this.conn.finishBody(rawTrailers);
    else this.filter(undefined, true, rawTrailers);
  }

  onBodyError(error: PingoraError): void {
    this.owner.abortAttempt(error);
  }

  // Modules first, then the user's filter, as Pingora orders them.
  private filter(chunk: Buffer | undefined, end: boolean, trailers?: string[]): void {
    const run = (): void | Promise<void> => {
      if (this.owner.isSettled) return;
      let r: unknown;
      let input = chunk;
      let phase = 'downstream modules requestBodyFilter';
      try {
        const mods = this.mods;
        if (mods !== undefined) {
          const m = mods.requestBodyFilter(input, end);
          if (m !== undefined) input = m ?? undefined;
        }
        phase = 'requestBodyFilter';
        const f = this.phases.requestBodyFilter;
        if (f !== null) r = f(this.session, input, end, this.ctx);
      } catch (e) {
        this.owner.abortAttempt(phaseError(e, phase));
        return;
      }
      const apply = (out: unknown) => {
        if (this.owner.isSettled) return;
        const c = out === undefined ? input : (out as Buffer | null);
        if (c !== null && c !== undefined) this.send(c);
        if (end) this.conn.finishBody(trailers);
      };
      if (r instanceof Promise) {
        this.session.body.pause();
        return r.then(
          (out) => {
            apply(out);
            this.session.body.resume();
          },
          (e) => this.owner.abortAttempt(phaseError(e, 'requestBodyFilter')),
        );
      }
      apply(r);
    };
    if (this.chain !== undefined) {
      this.chain = this.chain.then(run);
      return;
    }
    const r = run();
    if (r instanceof Promise) this.chain = r;
  }

  private send(chunk: Buffer): void {
    if (!this.conn.writeBody(chunk)) {
      this.session.body.pause();
      this.conn.onDrain(this.onUpstreamDrain);
    }
  }

  private readonly onUpstreamDrain = (): void => {
    if (!this.owner.isSettled) this.session.body.resume();
  };
}
