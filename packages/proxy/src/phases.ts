/**
 * The user's phases, looked up once when the proxy is built. Absent phases are `null` so the
 * request path tests one field instead of calling a default (fastify's trick), and the response
 * path knows up front whether any body filter exists.
 */
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import type { ProxyHttp } from './proxy-http.js';

type Bound<T> = T extends (...args: infer A) => infer R ? (...args: A) => R : never;
type Phase<Ctx, K extends keyof ProxyHttp<Ctx>> = Bound<NonNullable<ProxyHttp<Ctx>[K]>> | null;

/** @internal The compiled phase table. */
export interface Phases<Ctx> {
  newCtx: Phase<Ctx, 'newCtx'>;
  earlyRequestFilter: Phase<Ctx, 'earlyRequestFilter'>;
  requestFilter: Phase<Ctx, 'requestFilter'>;
  proxyUpstreamFilter: Phase<Ctx, 'proxyUpstreamFilter'>;
  requestCacheFilter: Phase<Ctx, 'requestCacheFilter'>;
  cacheKeyCallback: Phase<Ctx, 'cacheKeyCallback'>;
  cacheMiss: Phase<Ctx, 'cacheMiss'>;
  cacheHitFilter: Phase<Ctx, 'cacheHitFilter'>;
  responseCacheFilter: Phase<Ctx, 'responseCacheFilter'>;
  cacheVaryFilter: Phase<Ctx, 'cacheVaryFilter'>;
  cacheNotModifiedFilter: Phase<Ctx, 'cacheNotModifiedFilter'>;
  rangeHeaderFilter: Phase<Ctx, 'rangeHeaderFilter'>;
  shouldServeStale: Phase<Ctx, 'shouldServeStale'>;
  isPurge: Phase<Ctx, 'isPurge'>;
  purgeResponseFilter: Phase<Ctx, 'purgeResponseFilter'>;
  upstreamPeer: Bound<ProxyHttp<Ctx>['upstreamPeer']>;
  failToConnect: Phase<Ctx, 'failToConnect'>;
  connectedToUpstream: Phase<Ctx, 'connectedToUpstream'>;
  upstreamRequestFilter: Phase<Ctx, 'upstreamRequestFilter'>;
  requestBodyFilter: Phase<Ctx, 'requestBodyFilter'>;
  upstreamResponseFilter: Phase<Ctx, 'upstreamResponseFilter'>;
  responseFilter: Phase<Ctx, 'responseFilter'>;
  upstreamResponseBodyFilter: Phase<Ctx, 'upstreamResponseBodyFilter'>;
  upstreamResponseTrailerFilter: Phase<Ctx, 'upstreamResponseTrailerFilter'>;
  responseBodyFilter: Phase<Ctx, 'responseBodyFilter'>;
  responseTrailerFilter: Phase<Ctx, 'responseTrailerFilter'>;
  errorWhileProxy: Phase<Ctx, 'errorWhileProxy'>;
  failToProxy: Phase<Ctx, 'failToProxy'>;
  suppressErrorLog: Phase<Ctx, 'suppressErrorLog'>;
  requestSummary: Phase<Ctx, 'requestSummary'>;
  logging: Phase<Ctx, 'logging'>;
  /** Any response body filter is present (framing becomes chunked). */
  hasResponseBodyFilter: boolean;
}

const OPTIONAL = [
  'newCtx',
  'earlyRequestFilter',
  'requestFilter',
  'proxyUpstreamFilter',
  'requestCacheFilter',
  'cacheKeyCallback',
  'cacheMiss',
  'cacheHitFilter',
  'responseCacheFilter',
  'cacheVaryFilter',
  'cacheNotModifiedFilter',
  'rangeHeaderFilter',
  'shouldServeStale',
  'isPurge',
  'purgeResponseFilter',
  'failToConnect',
  'connectedToUpstream',
  'upstreamRequestFilter',
  'requestBodyFilter',
  'upstreamResponseFilter',
  'responseFilter',
  'upstreamResponseBodyFilter',
  'upstreamResponseTrailerFilter',
  'responseBodyFilter',
  'responseTrailerFilter',
  'errorWhileProxy',
  'failToProxy',
  'suppressErrorLog',
  'requestSummary',
  'logging',
] as const;

/** Binds each phase of `inner` (methods keep `this`), `null` for absent ones. */
export function compilePhases<Ctx>(inner: ProxyHttp<Ctx>): Phases<Ctx> {
  if (typeof inner.upstreamPeer !== 'function') {
    throw new TypeError('ProxyHttp: upstreamPeer(session, ctx) is required');
  }
  const table: Record<string, unknown> = { upstreamPeer: inner.upstreamPeer.bind(inner) };
  for (const name of OPTIONAL) {
    const fn = inner[name];
    if (fn === undefined || fn === null) table[name] = null;
    else if (typeof fn !== 'function') throw new TypeError(`ProxyHttp: ${name} must be a function`);
    else table[name] = (fn as (...a: unknown[]) => unknown).bind(inner);
  }
  table.hasResponseBodyFilter =
    table.upstreamResponseBodyFilter !== null || table.responseBodyFilter !== null;
  return table as unknown as Phases<Ctx>;
}

// Which user phase an error came from, for log lines. Errors are rare, so a side table keeps
// PingoraError free of proxy-only fields; the chain is walked because `errorWhileProxy` wraps.
const failedPhase = new WeakMap<PingoraError, string>();

/**
 * @internal What a user phase threw or rejected with, as a `PingoraError`: thrown `PingoraError`s
 * are kept as they are (they carry the user's type and status), anything else becomes an
 * `InternalError` whose cause is the original value, stack included. Either way the phase is
 * remembered for {@link describeFailure}.
 */
export function phaseError(e: unknown, phase: string): PingoraError {
  const err = isPingoraError(e)
    ? e
    : PingoraError.because(ErrorType.InternalError, `${phase} failed`, e).asIn();
  if (!failedPhase.has(err)) failedPhase.set(err, phase);
  return err;
}

/** @internal The user phase `error` (or an error it wraps) came from, if any. */
export function phaseOf(error: PingoraError): string | undefined {
  let e: unknown = error;
  while (isPingoraError(e)) {
    const phase = failedPhase.get(e);
    if (phase !== undefined) return phase;
    e = e.cause;
  }
  return undefined;
}

/**
 * @internal A failure as a person reads it: `requestFilter failed: boom` for a user phase (the
 * thrown message, or the thrown PingoraError), else the error's own Pingora-style display.
 */
export function describeFailure(error: PingoraError): { phase: string | undefined; detail: string } {
  const phase = phaseOf(error);
  const root = error.rootCause();
  const detail =
    phase !== undefined && !isPingoraError(root)
      ? root instanceof Error
        ? root.message
        : String(root)
      : String(error).trim();
  return { phase, detail };
}

/** @internal {@link describeFailure} as one string: `requestFilter failed: boom`, or the error's display. */
export function failureText(error: PingoraError): string {
  const { phase, detail } = describeFailure(error);
  return phase === undefined ? detail : `${phase} failed: ${detail}`;
}

/** @internal A phase returned a promise (awaited only then: a synchronous phase costs no tick). */
export function isPromise<T>(v: unknown): v is Promise<T> {
  return v instanceof Promise;
}
