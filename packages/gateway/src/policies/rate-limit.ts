/**
 * Rate limits of a route as request guards: one counter per (route, rule), counting per the
 * rule's key in windows of `per`; the request that takes a key over `requests` in a window, and
 * every one after it in that window, gets 429 without reaching the origin.
 */
import { levelEnabled, type Logger } from '@pingora-ts/core';
import { ResponseHeader } from '@pingora-ts/http';
import { Rate } from '@pingora-ts/limits';
import type { Session } from '@pingora-ts/proxy';
import { RedisRate } from '@pingora-ts/redis';
import type { GatewayCtx, RequestGuard } from '../runtime/contracts.js';
import { compileRequestKey } from '../runtime/request-key.js';
import type { RateLimitConfig } from '../schema/index.js';
import type { SharedRedis } from './redis-link.js';

/** What a rate-limit guard needs besides its rule. */
export interface RateLimitDeps {
  readonly logger: Logger;
  /** The shared Redis connection, for `store: redis`. */
  readonly redis: SharedRedis;
}

/** A window length in whole milliseconds, as `Rate` and `RedisRate` want it. */
function windowMs(per: number): number {
  return Math.max(1, Math.round(per));
}

/**
 * The guard for one rule of one route. A request whose key is empty (a header or cookie it does
 * not carry, a client address unknown on a Unix socket) is not counted, as nginx's `limit_req`
 * does: one shared bucket for every keyless request would throttle them all together.
 *
 * @example
 * ```ts
 * const guard = rateLimitGuard('api', 0, { requests: 10, per: 1000, key: 'client_ip', store: 'local' }, deps);
 * if (await guard(session, ctx)) return true; // 429 sent
 * ```
 */
export function rateLimitGuard(
  routeName: string,
  index: number,
  rule: RateLimitConfig,
  deps: RateLimitDeps,
): RequestGuard {
  const readKey = compileRequestKey(rule.key);
  const interval = windowMs(rule.per);
  const limit = rule.requests;
  // What the debug line says about the rule; built once, not per request.
  const what: RuleInfo = { route: routeName, rule: index, key: rule.key, limit, per: interval };

  if (rule.store === 'redis') {
    const rate = new RedisRate(deps.redis.link(), {
      intervalMs: interval,
      prefix: `${deps.redis.prefix}rate:${routeName}:${index}:`,
      fallback: 'local',
    });
    return async (session: Session, _ctx: GatewayCtx) => {
      const key = readKey(session, routeName);
      if (key === '') return false;
      const count = await rate.observe(key);
      if (count <= limit) return false;
      // Windows are fixed slices of the wall clock, the same on every instance.
      const left = interval - (Date.now() % interval);
      return reject(session, deps.logger, what, key, count, left);
    };
  }

  const rate = new Rate(interval);
  return (session: Session, _ctx: GatewayCtx) => {
    const key = readKey(session, routeName);
    if (key === '') return false;
    const count = rate.observe(key);
    if (count <= limit) return false;
    // A local window starts at its last roll; the fraction says how far into it this call is.
    const left = rate.rateWith(key, (c) => c.interval * (1 - c.currentIntervalFraction));
    return reject(session, deps.logger, what, key, count, left);
  };
}

interface RuleInfo {
  readonly route: string;
  readonly rule: number;
  readonly key: string;
  readonly limit: number;
  readonly per: number;
}

/** Sends the 429 and logs it at debug; returns true (the request is answered). */
function reject(
  session: Session,
  logger: Logger,
  what: RuleInfo,
  key: string,
  count: number,
  leftMs: number,
): true {
  const resp = ResponseHeader.build(429);
  resp.insertHeader('Retry-After', String(Math.max(1, Math.ceil(leftMs / 1000))));
  resp.insertHeader('X-RateLimit-Limit', String(what.limit));
  resp.insertHeader('X-RateLimit-Remaining', '0');
  resp.insertHeader('Content-Length', '0');
  resp.insertHeader('Cache-Control', 'private, no-store');
  session.writeResponseHeader(resp, true);
  if (levelEnabled(logger, 'debug')) logger.debug({ ...what, value: key, count }, 'rate limited');
  return true;
}

/** The guards for a route's `rate_limit` (one rule or a list), in the file's order. */
export function rateLimitGuards(
  routeName: string,
  rules: RateLimitConfig | readonly RateLimitConfig[] | undefined,
  deps: RateLimitDeps,
): RequestGuard[] {
  if (rules === undefined) return [];
  const list = Array.isArray(rules) ? rules : [rules as RateLimitConfig];
  return list.map((rule, i) => rateLimitGuard(routeName, i, rule, deps));
}
