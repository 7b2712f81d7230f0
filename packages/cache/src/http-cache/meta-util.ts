/**
 * Small helpers the state machine applies to metas (internal). Metas found by a lookup may be the
 * very objects a storage holds (the memory storage hands them out as they are), so every change
 * the cache makes to a found meta is made on a copy.
 */
import type { ResponseHeader } from '@pingora-ts/http';
import type { HashBinary } from '../key.js';
import { CacheMeta } from '../meta.js';

/** The fields {@link copyMeta} may replace. */
export interface MetaChanges {
  header?: ResponseHeader;
  staleWhileRevalidateSec?: number;
  staleIfErrorSec?: number;
}

/** A copy of `meta` with `changes` applied; extensions are carried over (same entries). */
export function copyMeta(meta: CacheMeta, changes: MetaChanges): CacheMeta {
  const copy = new CacheMeta({
    freshUntil: meta.freshUntil,
    created: meta.created,
    updated: meta.updated,
    staleWhileRevalidateSec: changes.staleWhileRevalidateSec ?? meta.staleWhileRevalidateSec,
    staleIfErrorSec: changes.staleIfErrorSec ?? meta.staleIfErrorSec,
    header: changes.header ?? meta.header,
    variance: meta.variance,
    epochOverride: meta.epochOverride,
  });
  copy.extensions = { ...meta.extensions };
  return copy;
}

/**
 * The body length the stored response head announces, or `undefined` when it has no single valid
 * Content-Length (several, or one that is not a plain decimal, say nothing reliable).
 */
export function contentLength(meta: CacheMeta): number | undefined {
  const all = meta.headers.getAll('content-length');
  if (all.length !== 1) return undefined;
  const value = all[0]!.trim();
  if (!/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** Whether two optional variance hashes are equal byte for byte. */
export function sameVariance(a: HashBinary | undefined, b: HashBinary | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
