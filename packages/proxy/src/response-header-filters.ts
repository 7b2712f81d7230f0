/**
 * The filters a response header goes through before it is written downstream, in Pingora's
 * order: the upstream compression (`session.upstreamCompression`), `upstreamResponseFilter`,
 * `responseFilter`, then the downstream modules' `responseHeaderFilter`. A step that is absent
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

/**
 * @internal Runs the header filters from step `from`. A failure (thrown or rejected) comes back as
 * a rejected promise, tagged with the step that failed.
 */
export function runResponseHeaderFilters<Ctx>(
  phases: Phases<Ctx>,
  session: Session,
  ctx: Ctx,
  resp: ResponseHeader,
  eos: boolean,
  from = 0,
): Promise<void> | undefined {
  for (let i = from; i < STEPS.length; i++) {
    let r: unknown;
    try {
      r = runStep(i, phases, session, ctx, resp, eos);
    } catch (e) {
      return Promise.reject(phaseError(e, STEPS[i]!));
    }
    if (r instanceof Promise) {
      return r.then(
        () => runResponseHeaderFilters(phases, session, ctx, resp, eos, i + 1),
        (e: unknown) => {
          throw phaseError(e, STEPS[i]!);
        },
      );
    }
  }
  return undefined;
}
