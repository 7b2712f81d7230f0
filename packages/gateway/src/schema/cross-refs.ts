/**
 * Checks that span sections of the file: a route's `upstream` names a cluster, route names are
 * unique, `store: redis` and `storage: redis` have a `redis` section, `storage: disk` has
 * `cache.disk`.
 *
 * They run even when other parts of the file are wrong (so `-t` lists every mistake at once),
 * which means the value seen here may not have the output type: every access is guarded.
 */
import type { z } from 'zod';

type Ctx = z.RefinementCtx;
type Path = (string | number)[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Run a refinement on any mapping, even when parts of it failed (see the module comment). */
export const whenMapping = { when: (p: { value: unknown }): boolean => isRecord(p.value) };

/** The cross-section checks of the whole file. */
export function checkCrossReferences(c: unknown, ctx: Ctx): void {
  if (!isRecord(c)) return;
  // A cluster whose name was refused is missing from `c.upstreams`: checking names against the
  // rest would report routes to it as unknown, so leave that until the name is fixed.
  const namesRefused = ctx.issues.some((i) => i.code === 'invalid_key' && i.path?.[0] === 'upstreams');
  const clusters = isRecord(c.upstreams) && !namesRefused ? Object.keys(c.upstreams) : [];
  const routes = Array.isArray(c.routes) ? c.routes : [];
  if (Array.isArray(c.routes) && routes.length === 0 && !namesRefused && clusters.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        clusters.length === 0
          ? 'no routes and no upstreams: add an upstream (all requests go to it) or routes'
          : 'no routes and several upstreams: add routes saying which requests go where',
      path: ['routes'],
    });
  }
  const hasRedis = c.redis !== undefined;
  const hasDisk = isRecord(c.cache) && c.cache.disk !== undefined;
  // The name is the cache key's namespace and the label in logs and metrics: two routes sharing
  // one would share cached entries and counts without saying so.
  const named = new Map<string, number>();
  routes.forEach((r: unknown, i) => {
    if (!isRecord(r)) return;
    if (typeof r.name === 'string') {
      const first = named.get(r.name);
      if (first === undefined) named.set(r.name, i);
      else {
        ctx.addIssue({
          code: 'custom',
          message: `"${r.name}" is already the name of routes[${first}]`,
          path: ['routes', i, 'name'],
        });
      }
    }
    if (
      typeof r.upstream === 'string' &&
      isRecord(c.upstreams) &&
      !namesRefused &&
      !clusters.includes(r.upstream)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `no upstream named "${r.upstream}"`,
        path: ['routes', i, 'upstream'],
        params: { unknownName: r.upstream, candidates: clusters },
      });
    }
    const many = Array.isArray(r.rate_limit);
    const limits: unknown[] = many ? (r.rate_limit as unknown[]) : [r.rate_limit];
    limits.forEach((l, j) => {
      if (!isRecord(l) || l.store !== 'redis' || hasRedis) return;
      const path: Path = many
        ? ['routes', i, 'rate_limit', j, 'store']
        : ['routes', i, 'rate_limit', 'store'];
      ctx.addIssue({ code: 'custom', message: 'store: redis needs a top-level "redis" section', path });
    });
    if (!isRecord(r.cache)) return;
    const path: Path = ['routes', i, 'cache', 'storage'];
    if (r.cache.storage === 'redis' && !hasRedis) {
      ctx.addIssue({ code: 'custom', message: 'storage: redis needs a top-level "redis" section', path });
    }
    if (r.cache.storage === 'disk' && !hasDisk) {
      ctx.addIssue({ code: 'custom', message: 'storage: disk needs "cache.disk.path"', path });
    }
  });
}
