/**
 * From a key path (`['routes', 2, 'match']`) to a line and column in the YAML text, through the
 * document's nodes. A path that does not exist in the file (a missing key, a default) lands on
 * its nearest ancestor that does.
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  visit,
} from 'yaml';

/** Where a problem points: the key itself (unknown or badly named keys) or its value. */
export type Target = 'key' | 'value';

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** `key:` with nothing after it: the null scalar's position is the next line, so use the key. */
function isEmptyValue(node: Node): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}

/**
 * The offset `path` points at. A mapping or list value points at its key (`tls:`) rather than at
 * its first inner key or brace, and an empty value at its key too; list items have no key and
 * point at themselves.
 */
function offsetOf(doc: Document, path: readonly PropertyKey[], target: Target): number | undefined {
  let node: unknown = doc.contents;
  let key: Node | undefined;
  let found = true;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) {
        found = false;
        break;
      }
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      key = undefined;
      node = node.items[seg];
    } else {
      found = false;
      break;
    }
  }
  const keyOffset = key?.range?.[0];
  if (found && target === 'key' && keyOffset !== undefined) return keyOffset;
  const value = node as Node | null | undefined;
  if (value === null || value === undefined || value.range == null || isEmptyValue(value)) return keyOffset;
  if (isCollection(value) && keyOffset !== undefined) return keyOffset;
  return value.range[0];
}

/** Line and column of `path` in `doc`; 1:1 when nothing in the file is near it (an empty file). */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly PropertyKey[],
  target: Target,
): Position {
  const offset = offsetOf(doc, path, target) ?? doc.contents?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * The key path of the mapping key that starts at `offset` (where the yaml library reports a
 * duplicate key), or undefined when no key starts there.
 */
export function keyPathAt(doc: Document, offset: number): PropertyKey[] | undefined {
  let found: PropertyKey[] | undefined;
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
      const path: PropertyKey[] = [];
      const chain = [...ancestors, pair];
      chain.forEach((node, i) => {
        if (isPair(node)) path.push(keyText(node.key) ?? '?');
        else if (isSeq(node) && chain[i + 1] !== undefined)
          path.push(node.items.indexOf(chain[i + 1] as Node));
      });
      found = path;
      return visit.BREAK;
    },
  });
  return found;
}

/** Offset of the first alias (`*name`) whose anchor is not defined before it, if any. */
export function unresolvedAliasAt(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return undefined;
      offset = alias.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}
