/**
 * A mistake in a gateway file, where it is and how it is printed:
 * `proxy.yaml:12:7: routes[2].match.path_prefx: unknown key (did you mean "path_prefix"?)`.
 */

/** One mistake in a gateway file. */
export interface ConfigProblem {
  /** The file as named by the caller. */
  readonly file: string;
  /** 1-based line; 0 when the problem is about the whole file (it cannot be read). */
  readonly line: number;
  /** 1-based column; 0 with `line` 0. */
  readonly column: number;
  /** The key, as `routes[2].match.path_prefx`; empty for the file as a whole or a YAML syntax error. */
  readonly path: string;
  /** What is wrong, for a person: `expected a number, got "abc"`. */
  readonly message: string;
}

/**
 * One line: `file:line:column: path: message`, without the parts that are empty or 0.
 *
 * @example
 * ```ts
 * formatProblem({ file: 'proxy.yaml', line: 12, column: 7, path: 'routes[2].match.path_prefx',
 *   message: 'unknown key (did you mean "path_prefix"?)' });
 * // 'proxy.yaml:12:7: routes[2].match.path_prefx: unknown key (did you mean "path_prefix"?)'
 * ```
 */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** Problems in file order (line, then column, then key), each listed once. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const line = formatProblem(p);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
  return unique.sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

/**
 * Thrown by `loadGatewayConfig` for a file that cannot be read or is not valid. `problems`
 * lists every mistake; the message is those problems formatted, one per line.
 */
export class GatewayConfigError extends Error {
  /** Every mistake found, in file order. */
  readonly problems: readonly ConfigProblem[];

  /** Wraps `problems` (at least one). */
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'GatewayConfigError';
    this.problems = problems;
  }
}

/** `routes[2].match.path_prefx`; keys that are not plain words are quoted: `sni["*.a.com"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(seg))) out += out === '' ? String(seg) : `.${String(seg)}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}
