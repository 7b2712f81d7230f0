/**
 * The keys a mapping of the gateway file may have, read from the zod schema itself, so "did you
 * mean" suggestions can never drift from what the validator accepts.
 */
import type { z } from 'zod';

/** The parts of a zod 4 schema definition this walk reads. */
interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly items?: readonly z.ZodType[];
  readonly getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schemas a value may be checked against once wrappers (optional, default, pipe) are peeled. */
function alternatives(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner !== undefined) return alternatives(inner, depth + 1);
  if (def.type === 'union' && def.options !== undefined) {
    return def.options.flatMap((o) => alternatives(o, depth + 1));
  }
  if (def.type === 'intersection' && def.left !== undefined && def.right !== undefined) {
    return [...alternatives(def.left, depth + 1), ...alternatives(def.right, depth + 1)];
  }
  return [schema];
}

function step(schema: z.ZodType, seg: PropertyKey): z.ZodType | undefined {
  const def = defOf(schema);
  if (def.type === 'object' && typeof seg === 'string') return def.shape?.[seg];
  if (def.type === 'array' && typeof seg === 'number') return def.element;
  if (def.type === 'tuple' && typeof seg === 'number') return def.items?.[seg];
  if (def.type === 'record') return def.valueType;
  return undefined;
}

/**
 * The keys allowed at `path` in values checked by `schema` (every branch of a union that is a
 * mapping contributes its keys). Empty when the path leads to no fixed-key mapping.
 *
 * @example
 * ```ts
 * allowedKeys(gatewayConfig, ['routes', 0, 'match']); // ['host', 'path_prefix', 'path_regex', …]
 * ```
 */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let here = alternatives(schema);
  for (const seg of path) {
    here = here.flatMap((s) => {
      const next = step(s, seg);
      return next === undefined ? [] : alternatives(next);
    });
  }
  const keys = new Set<string>();
  for (const s of here) {
    const def = defOf(s);
    if (def.type === 'object') for (const k of Object.keys(def.shape ?? {})) keys.add(k);
  }
  return [...keys];
}
