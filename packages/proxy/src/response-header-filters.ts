/**
 * The filters a response header goes through before it is written downstream, in Pingora's
 * order: the upstream compression (`session.upstreamCompression`), `upstreamResponseFilter`,
 * (the cache, between the two sides), `responseFilter`, then the downstream modules'
 * `responseHeaderFilter`. A step that is absent
 * costs a test; the chain returns a promise only when a step returned one.
 */
import type { ResponseHeader } from '@pingora-ts/http';
import { type Phases, phaseError } from './phases.js';
import type { Session } from './session.js';

const STEPS = [
  'upstream compression',
  'upstreamResponseFilter',
  'responseFilter',
  'downstream modules responseHeaderFilter',
] as const;

function runStep<Ctx>(
  step: number,
  phases: Phases<Ctx>,
  session: Session,
  ctx: Ctx,
  resp: ResponseHeader,
  eos: boolean,
): unknown {
  switch (step) {
    case 0:
      return session.upstreamCompressionCtx?.responseHeaderFilter(resp, eos);
    case 1:
      return phases.upstreamResponseFilter?.(session, resp, ctx);
    case 2:
      return phases.responseFilter?.(session, resp, ctx);
    default:
      return session.downstreamModules?.responseHeaderFilter(resp, eos);
  }
}

/** @internal The upstream side's steps: the upstream compression and `upstreamResponseFilter`. */
export const UPSTREAM_HEADER_STEPS = 0;
/** @internal The downstream side's steps: `responseFilter` and the modules' header filters. */
export const DOWNSTREAM_HEADER_STEPS = 2;

/**
 * @internal Runs the header filters of one side (`from` is {@link UPSTREAM_HEADER_STEPS} or
 * {@link DOWNSTREAM_HEADER_STEPS}): a cache sits between the two. A failure (thrown or rejected)
 * comes back as a rejected promise, tagged with the step that failed.
 */
export function runResponseHeaderFilters<Ctx>(
  phases: Phases<Ctx>,
  session: Session,
  ctx: Ctx,
  resp: ResponseHeader,
  eos: boolean,
  from: number,
  to: number = from === UPSTREAM_HEADER_STEPS ? DOWNSTREAM_HEADER_STEPS : STEPS.length,
): Promise<void> | undefined {
  for (let i = from; i < to; i++) {
    let r: unknown;
    try {
      r = runStep(i, phases, session, ctx, resp, eos);
    } catch (e) {
      return Promise.reject(phaseError(e, STEPS[i]!));
    }
    if (r instanceof Promise) {
      return r.then(
        () => runResponseHeaderFilters(phases, session, ctx, resp, eos, i + 1, to),
        (e: unknown) => {
          throw phaseError(e, STEPS[i]!);
        },
      );
    }
  }
  return undefined;
}
