/**
 * Who may PURGE a route's cached entries: `cache.purge_allow`, else this machine only. PURGE is
 * answered by the cache without asking the origin, so anyone able to send one could empty the
 * cache and send every client to the origin; the default keeps that to local tools (`curl -X
 * PURGE` on the host itself).
 */
import type { Session } from '@pingora-ts/proxy';
import type { GatewayCtx, RequestGuard } from '../runtime/contracts.js';
import type { RouteConfig } from '../schema/index.js';
import { cidrSet } from './cidr.js';

/** The addresses that may PURGE when `purge_allow` is not given: loopback, IPv4 and IPv6. */
export const DEFAULT_PURGE_ALLOW: readonly string[] = ['127.0.0.0/8', '::1'];

const FORBIDDEN = 'Forbidden\n';

/**
 * The guard refusing (403) a PURGE from a client outside `purge_allow` (default
 * {@link DEFAULT_PURGE_ALLOW}); undefined when the route does not accept PURGE. Other methods
 * pass. A client on a Unix socket is local: it passes the default but not an explicit list (it
 * has no address to be in one).
 *
 * @example
 * ```ts
 * const guard = purgeGuard({ purge: true, purge_allow: ['10.20.0.0/16'], ...rest });
 * ```
 */
export function purgeGuard(cache: RouteConfig['cache']): RequestGuard | undefined {
  if (typeof cache !== 'object' || !cache.purge) return undefined;
  const explicit = cache.purge_allow !== undefined;
  const allowed = cidrSet(cache.purge_allow ?? DEFAULT_PURGE_ALLOW);
  return (session: Session, _ctx: GatewayCtx) => {
    if (session.reqHeader().method !== 'PURGE') return false;
    const addr = session.clientAddr();
    const ok = addr === undefined || addr.family === 'unix' ? !explicit : allowed.has(addr.address);
    if (ok) return false;
    session.respondErrorWithBody(403, FORBIDDEN);
    return true;
  };
}
