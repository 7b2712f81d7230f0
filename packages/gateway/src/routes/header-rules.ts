/**
 * A route's `request_headers` / `response_headers` compiled into one edit of a header. The rules
 * run in the file's documented order — remove, remove_regex, set, append — so a rule set can drop
 * a header and put its own value in its place.
 */
import type { HttpHeader } from '@pingora-ts/http';
import type { HeaderRules } from '../schema/index.js';

/** Applies compiled header rules to a request or response header, in place. */
export type HeaderEdit = (header: HttpHeader) => void;

/**
 * Compiles header rules; `undefined` when there is nothing to do (so the phase can be skipped).
 * `remove_regex` patterns are tested case-insensitively against each field name, unanchored
 * (write `^x-internal-` to match a prefix).
 *
 * @example
 * ```ts
 * const edit = compileHeaderRules({ remove: ['server'], set: { 'x-frame-options': 'DENY' } });
 * edit?.(responseHeader);
 * ```
 */
export function compileHeaderRules(rules: HeaderRules | undefined): HeaderEdit | undefined {
  if (rules === undefined) return undefined;
  const remove = rules.remove ?? [];
  const patterns = (rules.remove_regex ?? []).map((p) => new RegExp(p, 'i'));
  const set = Object.entries(rules.set ?? {});
  const append = Object.entries(rules.append ?? {});
  if (remove.length + patterns.length + set.length + append.length === 0) return undefined;
  return (header) => {
    for (let i = 0; i < remove.length; i++) header.removeHeader(remove[i]!);
    if (patterns.length > 0) removeMatching(header, patterns);
    for (let i = 0; i < set.length; i++) header.insertHeader(set[i]![0], set[i]![1]);
    for (let i = 0; i < append.length; i++) header.appendHeader(append[i]![0], append[i]![1]);
  };
}

function removeMatching(header: HttpHeader, patterns: RegExp[]): void {
  const raw = header.rawHeaders;
  // Names first, removal after: removing a name shifts the fields behind it.
  let doomed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    for (let j = 0; j < patterns.length; j++) {
      if (patterns[j]!.test(name)) {
        if (doomed === undefined) doomed = [];
        doomed.push(name);
        break;
      }
    }
  }
  if (doomed !== undefined) for (const name of doomed) header.removeHeader(name);
}
