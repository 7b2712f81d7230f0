/**
 * zod issues turned into what a person fixing a YAML file needs: the key path, whether the key
 * or its value is at fault, and a message in plain words (`expected a number, got "abc"`,
 * `unknown key (did you mean "path_prefix"?)`). Union failures are reduced to the branch the
 * written value was meant for.
 */
import type { z } from 'zod';
import type { Target } from './locate.js';
import { allowedKeys } from './schema-keys.js';
import { didYouMean } from './suggest.js';

/** A problem before it has a file position. */
export interface PathProblem {
  readonly path: PropertyKey[];
  readonly target: Target;
  readonly message: string;
}

/** The fields of zod 4 issues read here (with `reportInput`, `input` is the value at fault). */
interface Issue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly errors?: readonly (readonly Issue[])[];
  readonly issues?: readonly Issue[];
  readonly origin?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly format?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly includes?: string;
  readonly pattern?: string;
  readonly divisor?: number;
  readonly params?: { readonly unknownName?: unknown; readonly candidates?: unknown };
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** A value as a person would recognise it in the file. */
function show(v: unknown): string {
  // `key:` with nothing after it.
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const isScalarValue = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const got = (v: unknown) => (isScalarValue(v) ? `, got ${show(v)}` : '');
/** zod's own wording starts this way; a message written in the schema is shown as it is. */
const isZodDefault = (m: string) => /^(Invalid|Too (small|big)|Unrecognized)/.test(m);

function oneOf(values: readonly unknown[], input: unknown): string {
  const list = values.map((v) => (typeof v === 'string' ? v : show(v)));
  if (list.length === 1) return `must be ${show(values[0])}${got(input)}`;
  const hint = typeof input === 'string' ? didYouMean(input, list) : '';
  return `must be one of ${list.join(', ')}${hint === '' ? got(input) : hint}`;
}

function bound(issue: Issue, small: boolean): string {
  const n = Number(small ? issue.minimum : issue.maximum);
  const most = small ? 'least' : 'most';
  switch (issue.origin) {
    case 'string':
      if (small && n === 1) return 'must not be empty';
      return `must be at ${most} ${n} characters long`;
    case 'array':
    case 'set':
      if (small && n === 1) return 'must have at least one item';
      return `must have at ${most} ${n} items`;
    default: {
      const rel = issue.inclusive === false ? (small ? 'greater than' : 'less than') : `at ${most}`;
      return `must be ${rel} ${n}${got(issue.input)}`;
    }
  }
}

function formatMessage(issue: Issue): string {
  if (!isZodDefault(issue.message)) return `${issue.message}${got(issue.input)}`;
  switch (issue.format) {
    case 'starts_with':
      return `must start with "${issue.prefix}"${got(issue.input)}`;
    case 'ends_with':
      return `must end with "${issue.suffix}"${got(issue.input)}`;
    case 'includes':
      return `must contain "${issue.includes}"${got(issue.input)}`;
    case 'regex':
      return `must match ${issue.pattern}${got(issue.input)}`;
    default:
      return `must be a valid ${issue.format ?? 'value'}${got(issue.input)}`;
  }
}

function customMessage(issue: Issue): string {
  const name = issue.params?.unknownName;
  const candidates = issue.params?.candidates;
  if (typeof name !== 'string' || !Array.isArray(candidates)) return `${issue.message}${got(issue.input)}`;
  const known = candidates.filter((c): c is string => typeof c === 'string');
  const hint = didYouMean(name, known);
  if (hint !== '') return `${issue.message}${hint}`;
  return known.length === 0
    ? `${issue.message} (none is defined)`
    : `${issue.message} (known: ${known.join(', ')})`;
}

/** The message of an issue whose path is already settled (no union, no unknown key). */
function plainMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${NOUNS[issue.expected ?? ''] ?? issue.expected}, got ${show(issue.input)}`;
    case 'invalid_value':
      return oneOf(issue.values ?? [], issue.input);
    case 'too_small':
      return bound(issue, true);
    case 'too_big':
      return bound(issue, false);
    case 'invalid_format':
      return formatMessage(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}${got(issue.input)}`;
    case 'custom':
      return customMessage(issue);
    default:
      return issue.message;
  }
}

/** A branch failed only because the value is of another kind (a string where it wants a mapping). */
function isKindMismatch(branch: readonly Issue[]): boolean {
  return branch.every(
    (i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'),
  );
}

/** Every branch rejected the kind of value: say which kinds would do. */
function mismatchMessage(branches: readonly (readonly Issue[])[], input: unknown): string {
  const all = branches.flat();
  if (all.every((i) => i.code === 'invalid_value')) {
    const values = all.flatMap((i) => i.values ?? []);
    return oneOf(values, input);
  }
  const kinds = [
    ...new Set(
      all.map((i) => {
        if (i.code !== 'invalid_type') return (i.values ?? []).map(show).join(' or ');
        // "true or false or a mapping" reads badly in a list.
        return i.expected === 'boolean' ? 'a boolean' : (NOUNS[i.expected ?? ''] ?? i.expected);
      }),
    ),
  ];
  const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}` : kinds[0];
  return `expected ${list}, got ${show(input)}`;
}

function collect(schema: z.ZodType, issue: Issue, base: readonly PropertyKey[], out: PathProblem[]): void {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'invalid_union': {
      const branches = issue.errors ?? [];
      const meant = branches.filter((b) => !isKindMismatch(b));
      if (meant.length === 0) {
        out.push({ path, target: 'value', message: mismatchMessage(branches, issue.input) });
        return;
      }
      // The closest branch: fewest problems (a list of one limit vs a single limit, say).
      const best = meant.reduce((a, b) => (b.length < a.length ? b : a));
      for (const i of best) collect(schema, i, path, out);
      return;
    }
    case 'unrecognized_keys': {
      const known = allowedKeys(schema, path);
      for (const key of issue.keys ?? []) {
        const hint = didYouMean(key, known);
        out.push({ path: [...path, key], target: 'key', message: `unknown key${hint}` });
      }
      return;
    }
    case 'invalid_key': {
      for (const i of issue.issues ?? []) out.push({ path, target: 'key', message: plainMessage(i) });
      return;
    }
    case 'invalid_type':
      if (issue.input === undefined && path.length > 0) {
        out.push({
          path: path.slice(0, -1),
          target: 'value',
          message: `missing required key "${String(path.at(-1))}"`,
        });
        return;
      }
      break;
  }
  out.push({ path, target: 'value', message: plainMessage(issue) });
}

/**
 * The problems `issues` describe, in plain words. `schema` is the one that produced them (its
 * mappings' keys feed "did you mean"); the parse must have used `reportInput: true`.
 */
export function describeIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): PathProblem[] {
  const out: PathProblem[] = [];
  for (const issue of issues) collect(schema, issue as unknown as Issue, [], out);
  return out;
}
