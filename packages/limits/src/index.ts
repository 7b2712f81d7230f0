/**
 * @module @pingora-ts/limits
 *
 * Pingora's limiter building blocks for TypeScript, with no dependencies. All three count keys
 * in count-min sketches, so memory stays fixed (a few kilobytes to a few hundred) however many
 * distinct clients, IPs or app ids show up, and an estimate can only err upwards.
 *
 * - {@link Estimator}: the count-min sketch itself (`incr`, `decr`, `get`, `reset`).
 * - {@link Rate}: events per key per interval, two windows rolled lazily on access, for rate
 *   limiting (`observe`, `rate`, `rateWith`).
 * - {@link Inflight}: counts of ongoing work per key with guards that give their share back,
 *   for concurrency limits.
 *
 * @example
 * ```ts
 * import { Inflight, Rate } from '@pingora-ts/limits';
 *
 * const perSecond = new Rate(1000);
 * if (perSecond.observe(appid, 1) > 100) return reply(429);
 *
 * const inflight = new Inflight();
 * using guard = inflight.acquire(appid);
 * if (guard.count > 10) return reply(503);
 * ```
 */
export { Estimator } from './estimator.js';
export type { EstimatorKey } from './hash.js';
export { Rate, PROPORTIONAL_RATE_ESTIMATE_CALC_FN } from './rate.js';
export type { RateCalcFn, RateComponents, RateOptions } from './rate.js';
export { Inflight } from './inflight.js';
export type { InflightGuard, InflightOptions } from './inflight.js';
